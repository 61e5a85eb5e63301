-- The same entry of the activity log on many subjects at once (a tag or list deleted: one
-- entry on each contact or company it came off).
INSERT INTO crm.activity (workspace_id, actor_id, subject_kind, subject_id, action, detail)
SELECT %(workspace_id)s, %(actor_id)s, s.kind, s.id, %(action)s, %(detail)s::jsonb
FROM unnest(%(kinds)s::text[], %(ids)s::bigint[]) AS s (kind, id)
