-- Plan this transaction's cursors for reading every row, not the first few (without it a
-- server-side cursor gets a fast-start plan of nested loops, several times slower in full),
-- and let a full run's grouping and window sorts stay in memory.
SELECT set_config('cursor_tuple_fraction', '1.0', true), set_config('work_mem', '64MB', true)
