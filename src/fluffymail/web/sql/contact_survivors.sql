-- Those of the contacts given that are the user's and were merged into another, each with
-- the live contact it joined in the end (a merge into a contact merged since is followed to
-- where that one went) and its name or address: what a write aimed at an old id should use.
WITH RECURSIVE chain AS (
    SELECT c.id AS contact_id, c.merged_into_id AS into_id, 1 AS depth
    FROM crm.contacts c
    WHERE c.id = ANY(%(contact_ids)s::bigint[]) AND c.user_id = %(user_id)s
      AND c.merged_into_id IS NOT NULL
    UNION ALL
    SELECT ch.contact_id, c.merged_into_id, ch.depth + 1
    FROM chain ch
    JOIN crm.contacts c ON c.id = ch.into_id
    WHERE c.merged_into_id IS NOT NULL AND ch.depth < 100  -- a cycle would be a bug: stop
)
SELECT DISTINCT ON (ch.contact_id) ch.contact_id AS id, ch.into_id,
       coalesce(nullif(i.name, ''), i.primary_address) AS into_label
FROM chain ch
JOIN crm.contacts i ON i.id = ch.into_id
ORDER BY ch.contact_id, ch.depth DESC
