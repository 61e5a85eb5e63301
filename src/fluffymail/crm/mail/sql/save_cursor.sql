-- The connection's whole cursor, plus each folder's part mirrored onto its folder row.
WITH conn AS (
    UPDATE crm.connections SET cursor = %(cursor)s::jsonb WHERE id = %(id)s RETURNING id
)
INSERT INTO crm.folders (connection_id, name, cursor, synced_on)
SELECT %(id)s, f.key, f.value, %(now)s
FROM jsonb_each(coalesce(%(folders)s::jsonb, '{}')) AS f
ON CONFLICT (connection_id, name) DO UPDATE SET cursor = EXCLUDED.cursor, synced_on = EXCLUDED.synced_on
