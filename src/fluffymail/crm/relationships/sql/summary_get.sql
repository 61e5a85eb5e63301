-- The stored summary of one (user, contact): what made it and the newest mail it covered.
SELECT s.status, s.generated_by, s.prompt_version, s.last_message_at, s.created_on
FROM crm.relationship_summaries s
WHERE s.user_id = %(user_id)s AND s.contact_id = %(contact_id)s
