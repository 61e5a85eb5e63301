-- Managing connections from the web app (issue 7): pause/resume and deletion by a job.
-- A paused connection keeps its mail but is not synced; a connection being deleted is hidden
-- from syncs while the `delete-connection` job removes its mail in batches, then the row.

ALTER TABLE crm.connections
    ADD COLUMN paused_on   timestamptz,   -- set: no scheduled or manual syncs until resumed
    ADD COLUMN deleting_on timestamptz;   -- set: the delete-connection job is removing it
