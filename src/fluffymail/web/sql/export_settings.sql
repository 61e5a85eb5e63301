-- For one export's transaction: no JIT. The export's estimate (a subquery per contact) makes
-- PostgreSQL compile it, which cost a second of a 30,000-contact export's two.
SET LOCAL jit = off
