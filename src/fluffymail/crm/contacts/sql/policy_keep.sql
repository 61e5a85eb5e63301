-- The user adds people as contacts: visible from now on, whatever the creation policy says
-- (`kept_on`). Returns the ids of the user's live contacts given (others are ignored).
UPDATE crm.contacts c
SET created = true,
    kept_on = coalesce(c.kept_on, %(now)s),
    visible_on = coalesce(c.visible_on, %(now)s),
    updated_on = %(now)s
WHERE c.id = ANY(%(ids)s::bigint[]) AND c.user_id = %(user_id)s
  AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
RETURNING c.id, c.primary_address
