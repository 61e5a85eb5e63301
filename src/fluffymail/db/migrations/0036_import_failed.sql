-- An import run whose job failed for good (its retries spent) says so: state 'failed' with the
-- last error, instead of showing as 'queued' for ever. Confirming it again queues a new try.
ALTER TABLE crm.import_runs DROP CONSTRAINT import_runs_state_check;
ALTER TABLE crm.import_runs ADD CONSTRAINT import_runs_state_check
    CHECK (state IN ('previewed', 'queued', 'done', 'failed'));
