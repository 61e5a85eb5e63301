-- Best path in to a person: each team member's (the user's and their workspace teammates')
-- strongest relationship with any address of the user's contact %(contact_id)s.
WITH team AS (
    SELECT %(user_id)s::bigint AS user_id
    UNION
    SELECT m2.user_id
    FROM crm.workspace_members m1
    JOIN crm.workspace_members m2 ON m2.workspace_id = m1.workspace_id
    WHERE m1.user_id = %(user_id)s
),
person AS (
    SELECT a.address
    FROM crm.contacts c
    JOIN crm.contact_addresses a
      ON a.user_id = c.user_id AND a.contact_id = coalesce(c.merged_into_id, c.id)
    WHERE c.id = %(contact_id)s AND c.user_id = %(user_id)s
),
held AS (
    SELECT DISTINCT t.user_id, coalesce(k.merged_into_id, k.id) AS contact_id
    FROM team t
    JOIN person p ON true
    JOIN crm.contact_addresses a ON a.user_id = t.user_id AND a.address = p.address
    JOIN crm.contacts k ON k.id = a.contact_id
)
SELECT DISTINCT ON (h.user_id)
       h.user_id, u.email, u.name, h.user_id = %(user_id)s AS is_self,
       k.id AS contact_id, k.primary_address, k.name AS contact_name,
       r.score, r.level, r.last_at, r.evidence
FROM held h
JOIN crm.users u ON u.id = h.user_id
JOIN crm.contacts k ON k.id = h.contact_id
JOIN crm.relationships r ON r.user_id = h.user_id AND r.contact_id = h.contact_id
WHERE r.score > 0 AND k.suppressed_reason IS NULL
  AND (k.created OR h.user_id = %(user_id)s)
ORDER BY h.user_id, r.score DESC, k.id
