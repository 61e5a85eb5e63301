-- A new subscription of the workspace.
INSERT INTO crm.webhooks (workspace_id, created_by, url, description, events, secret, enabled)
VALUES (%(workspace_id)s, %(user_id)s, %(url)s, %(description)s, %(events)s, %(secret)s, %(enabled)s)
RETURNING id, workspace_id, url, description, events, enabled, created_on, changed_on
