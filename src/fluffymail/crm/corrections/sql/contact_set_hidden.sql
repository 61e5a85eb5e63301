-- Hide the user's contact ('user': hidden, 'not_person': a bot or a list) or show it again
-- (NULL); never touches a contact suppressed for another reason (the user's own address).
UPDATE crm.contacts
SET suppressed_reason = %(reason)s::text, updated_on = %(now)s
WHERE id = %(id)s AND user_id = %(user_id)s AND merged_into_id IS NULL
  AND (suppressed_reason IS NULL OR suppressed_reason IN ('user', 'not_person'))
RETURNING id
