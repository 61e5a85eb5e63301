-- Pairs of live contacts with the same identity key (full name at a work domain) that the
-- user never split apart again; the older contact keeps the newer one's addresses. With the
-- names of both (into, from): a pair whose middle initials differ is two people.
SELECT DISTINCT least(c.id, o.id) AS into_id, greatest(c.id, o.id) AS from_id, c.identity_key,
       CASE WHEN c.id < o.id THEN c.name ELSE o.name END AS into_name,
       CASE WHEN c.id < o.id THEN o.name ELSE c.name END AS from_name
FROM crm.contacts c
JOIN crm.contacts o ON o.user_id = c.user_id AND o.identity_key = c.identity_key AND o.id <> c.id
WHERE c.id = ANY(%(ids)s::bigint[])
  AND c.identity_key IS NOT NULL
  AND c.merged_into_id IS NULL AND o.merged_into_id IS NULL
  AND c.suppressed_reason IS NULL AND o.suppressed_reason IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM crm.contact_merges m
      WHERE m.user_id = c.user_id AND m.unmerged_on IS NOT NULL
        AND m.into_contact_id IN (c.id, o.id) AND m.from_contact_id IN (c.id, o.id)
  )
ORDER BY 1, 2
