-- For the import's transaction: no JIT (compiling the set-based statements costs more than
-- it saves at 100,000 rows).
SET LOCAL jit = off
