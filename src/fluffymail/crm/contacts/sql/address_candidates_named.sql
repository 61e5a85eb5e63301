-- The live fully named people with one of these given or family names, each with the other
-- name's initial, or with one of these full names (crm.name_key: contacts_given_key_idx,
-- contacts_family_key_idx), with their addresses at the hosts or with the local parts: those
-- whose name could make a nameless handle, and the namesakes of a newly named contact
-- (identity.pairing_keys). A superset; identity.address_pairs decides. One index scan per
-- kind of key (a UNION: an OR would re-test every row against every key), the people first,
-- then their addresses by contact_addresses_contact_idx (as address_candidates_at.sql). While
-- the statistics still say the contacts table is empty (the first minutes of a first import),
-- the planner may read all the user's named people from an index and test each one's keys:
-- what the old host read cost, until autovacuum's next ANALYZE.
WITH people AS MATERIALIZED (
    SELECT c.id, c.name, c.first_name, c.last_name, c.name_quality
    FROM crm.contacts c
    WHERE c.user_id = %(user_id)s AND c.name_quality >= 3 AND c.merged_into_id IS NULL
      AND crm.name_key(c.first_name, c.last_name) = ANY(ARRAY(
          SELECT crm.name_key(k.name, k.other)
          FROM unnest(%(givens)s::text[], %(givens_other)s::text[]) AS k(name, other)))
      AND c.suppressed_reason IS NULL AND c.kind = 'person'
    UNION
    SELECT c.id, c.name, c.first_name, c.last_name, c.name_quality
    FROM crm.contacts c
    WHERE c.user_id = %(user_id)s AND c.name_quality >= 3 AND c.merged_into_id IS NULL
      AND crm.name_key(c.last_name, c.first_name) = ANY(ARRAY(
          SELECT crm.name_key(k.name, k.other)
          FROM unnest(%(families)s::text[], %(families_other)s::text[]) AS k(name, other)))
      AND c.suppressed_reason IS NULL AND c.kind = 'person'
    UNION
    SELECT c.id, c.name, c.first_name, c.last_name, c.name_quality
    FROM crm.contacts c
    WHERE c.user_id = %(user_id)s AND c.name_quality >= 3 AND c.merged_into_id IS NULL
      AND crm.name_key(c.last_name, c.first_name) = ANY(ARRAY(
          SELECT crm.name_key(k.last, k.first)
          FROM unnest(%(full_first)s::text[], %(full_last)s::text[]) AS k(first, last)))
      AND crm.name_key(c.first_name, c.last_name) IN (
          SELECT crm.name_key(k.first, k.last)
          FROM unnest(%(full_first)s::text[], %(full_last)s::text[]) AS k(first, last))
      AND c.suppressed_reason IS NULL AND c.kind = 'person'
)
SELECT p.id, a.address, p.name, p.first_name, p.last_name, p.name_quality
FROM crm.contact_addresses a
JOIN people p ON p.id = a.contact_id
WHERE a.contact_id = ANY(ARRAY(SELECT id FROM people))
  AND (split_part(a.address, '@', 2) = ANY(%(hosts)s::text[])
       OR split_part(a.address, '@', 1) = ANY(%(locals)s::text[]))
ORDER BY p.id, a.address
