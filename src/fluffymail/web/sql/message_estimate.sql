-- PostgreSQL's estimate of how many of the user's messages match `query` (message_query.sql's
-- tsquery), or of all of them with no query: the planner's row count, which decides whether a
-- search of several words reads the GIN index or walks the date order (message_search.py,
-- SPARSE_SHARE).
EXPLAIN (FORMAT JSON)
SELECT FROM crm.message_search s
WHERE s.user_id = %(user_id)s
  AND (%(query)s::tsquery IS NULL OR s.vector @@ %(query)s::tsquery)
