-- Which of these contacts a list's page never shows (list_get.sql counts what it shows), and
-- why: one the user hid or marked not a person, a group (a distribution list, a team address),
-- one FluffyMail keeps out of the contacts (the user's own address), or someone not a
-- contact yet (held back by the connection's creation policy).
SELECT id, coalesce(nullif(name, ''), primary_address) AS label,
       CASE WHEN suppressed_reason = 'user' THEN 'hidden'
            WHEN suppressed_reason = 'not_person' THEN 'not_person'
            WHEN kind <> 'person' THEN 'group'
            WHEN suppressed_reason = 'self' THEN 'self'
            WHEN suppressed_reason IS NOT NULL THEN 'kept_out'
            ELSE 'held_back' END AS why
FROM crm.contacts
WHERE id = ANY(%(contact_ids)s::bigint[])
  AND (suppressed_reason IS NOT NULL OR kind <> 'person' OR NOT created)
ORDER BY id
