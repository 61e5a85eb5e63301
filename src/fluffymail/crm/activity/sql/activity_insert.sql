-- One entry of the activity log.
INSERT INTO crm.activity (workspace_id, actor_id, subject_kind, subject_id, action, detail)
VALUES (%(workspace_id)s, %(actor_id)s, %(subject_kind)s, %(subject_id)s, %(action)s,
        %(detail)s::jsonb)
