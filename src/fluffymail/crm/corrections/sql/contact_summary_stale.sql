-- A renamed contact's summary names them by their old name: it no longer counts as current
-- (summarizing.is_current needs `last_message_at`), so the next one made is written anew.
UPDATE crm.relationship_summaries
SET last_message_at = NULL
WHERE user_id = %(user_id)s AND contact_id = %(contact_id)s
