-- Fresh statistics for the staged rows before they are joined to the user's contacts: a run
-- of 100,000 rows planned with a small table's estimates joins them row by row.
ANALYZE crm.import_rows
