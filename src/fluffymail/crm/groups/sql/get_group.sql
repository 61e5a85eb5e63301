-- One live group of the user (NULL for another user's contact or a person).
SELECT c.id, c.primary_address AS address, c.name, c.kind_reason AS reason,
       c.last_interaction_on, 0 AS messages, 0 AS members
FROM crm.contacts c
WHERE c.id = %(id)s AND c.user_id = %(user_id)s AND c.kind = 'group'
  AND c.merged_into_id IS NULL
