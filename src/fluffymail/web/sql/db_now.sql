-- The database's clock (the dashboard's reference for ages and chart buckets).
SELECT now()
