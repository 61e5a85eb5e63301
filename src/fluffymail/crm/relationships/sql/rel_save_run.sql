-- Advance the user's cursor (same transaction as the relationships it covers).
WITH analyzed AS (
    UPDATE crm.users SET relationships_analyzed_on = %(now)s WHERE id = %(user_id)s
)
UPDATE crm.relationship_runs
SET last_message_id = %(cursor)s, analyzed_on = %(now)s,
    full_on = CASE WHEN %(full)s THEN %(now)s ELSE full_on END
WHERE user_id = %(user_id)s
