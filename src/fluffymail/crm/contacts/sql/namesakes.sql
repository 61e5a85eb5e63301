-- The user's live fully named people with one of these full names (up to crm.name_key, both
-- names: contacts_family_key_idx; identity.namesake_pairs compares them exactly).
SELECT c.id, c.name, c.first_name, c.last_name, c.name_quality
FROM crm.contacts c
WHERE c.user_id = %(user_id)s AND c.name_quality >= 3 AND c.merged_into_id IS NULL
  AND crm.name_key(c.last_name, c.first_name) = ANY(ARRAY(
      SELECT crm.name_key(k.last, k.first)
      FROM unnest(%(first)s::text[], %(last)s::text[]) AS k(first, last)))
  AND crm.name_key(c.first_name, c.last_name) IN (
      SELECT crm.name_key(k.first, k.last)
      FROM unnest(%(first)s::text[], %(last)s::text[]) AS k(first, last))
  AND c.suppressed_reason IS NULL AND c.kind = 'person'
ORDER BY c.id
