-- Take the user's analysis lock (the run row, created on first use) and read the cursor:
-- concurrent runs for one user queue up here until the first commits.
INSERT INTO crm.relationship_runs (user_id) VALUES (%(user_id)s)
ON CONFLICT (user_id) DO UPDATE SET user_id = excluded.user_id
RETURNING last_message_id
