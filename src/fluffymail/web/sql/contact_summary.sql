-- The relationship summary of one of the user's contacts.
SELECT status, generated_by, summary, error, last_message_at, created_on
FROM crm.relationship_summaries
WHERE user_id = %(user_id)s AND contact_id = %(id)s
