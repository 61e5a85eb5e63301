-- Of the given tables, those with at least max(min_rows, fraction × their rows) rows inserted or
-- left dead since their last VACUUM: their visibility map lags, so index-only scans read the
-- heap for every row (autovacuum's insert rule, made eager; it may be off or behind a load).
SELECT s.schemaname, s.relname
FROM pg_stat_user_tables s
JOIN pg_class c ON c.oid = s.relid
WHERE format('%%s.%%s', s.schemaname, s.relname) = ANY(%(tables)s::text[])
  AND s.n_ins_since_vacuum + s.n_dead_tup
      >= greatest(%(min_rows)s::float8, %(fraction)s::float8 * greatest(c.reltuples, 0))
ORDER BY 1, 2
