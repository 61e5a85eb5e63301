-- The parts of a connection's cursor a batch moved, each its own row updated in place (no
-- indexed column changes: a HOT update), and the parts it no longer has (a vanished folder).
WITH dropped AS (
    DELETE FROM crm.sync_cursors
    WHERE user_id = %(user_id)s AND connection_id = %(id)s AND folder = ANY(%(deletes)s::text[])
)
INSERT INTO crm.sync_cursors (user_id, connection_id, folder, position, synced_on)
SELECT %(user_id)s, %(id)s, p.key, p.value, %(now)s
FROM jsonb_each(%(upserts)s::jsonb) AS p
ON CONFLICT (user_id, connection_id, folder)
DO UPDATE SET position = EXCLUDED.position, synced_on = EXCLUDED.synced_on
