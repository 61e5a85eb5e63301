-- A sync that stopped early because its connection was paused or marked for deletion while it
-- read: no longer syncing, and no failure (the cursor keeps its place for the next sync; the
-- last full sync's time stays). Returns why: 'deleting' or 'paused'.
UPDATE crm.connections
SET status = CASE WHEN status = 'syncing' THEN 'ok' ELSE status END
WHERE id = %(id)s
RETURNING CASE WHEN deleting_on IS NOT NULL THEN 'deleting' ELSE 'paused' END
