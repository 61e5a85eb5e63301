-- Of the given tables, those changed by at least max(min_rows, fraction × their rows) since
-- their last ANALYZE (pg_class.reltuples is -1 for a table never analysed).
SELECT s.schemaname, s.relname
FROM pg_stat_user_tables s
JOIN pg_class c ON c.oid = s.relid
WHERE format('%%s.%%s', s.schemaname, s.relname) = ANY(%(tables)s::text[])
  AND s.n_mod_since_analyze >= greatest(%(min_rows)s::float8, %(fraction)s::float8 * greatest(c.reltuples, 0))
ORDER BY 1, 2
