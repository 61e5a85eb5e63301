-- Summaries that cite a deleted message no longer count as current (summarizing.is_current
-- needs `last_message_at`): the next summarize job for the contact writes a new one.
UPDATE crm.relationship_summaries s
SET last_message_at = NULL
WHERE s.user_id = %(user_id)s
  AND s.last_message_at IS NOT NULL
  AND EXISTS (
      SELECT 1 FROM jsonb_array_elements_text(coalesce(s.summary -> 'citations', '[]'))
                    AS c(id)
      WHERE c.id::bigint = ANY(%(ids)s::bigint[])
  )
RETURNING s.contact_id
