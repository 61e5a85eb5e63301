-- Best path in to a company: each team member's strongest relationship with anyone at the
-- company of that domain in their own contacts (companies are per user, matched by domain).
WITH team AS (
    SELECT %(user_id)s::bigint AS user_id
    UNION
    SELECT m2.user_id
    FROM crm.workspace_members m1
    JOIN crm.workspace_members m2 ON m2.workspace_id = m1.workspace_id
    WHERE m1.user_id = %(user_id)s
),
company AS (
    SELECT domain FROM crm.companies WHERE id = %(company_id)s AND user_id = %(user_id)s
)
SELECT DISTINCT ON (t.user_id)
       t.user_id, u.email, u.name, t.user_id = %(user_id)s AS is_self,
       k.id AS contact_id, k.primary_address, k.name AS contact_name,
       r.score, r.level, r.last_at, r.evidence
FROM team t
JOIN company ON true
JOIN crm.companies co ON co.user_id = t.user_id AND co.domain = company.domain
JOIN crm.contacts k ON k.company_id = co.id
JOIN crm.users u ON u.id = t.user_id
JOIN crm.relationships r ON r.user_id = t.user_id AND r.contact_id = k.id
WHERE r.score > 0 AND k.merged_into_id IS NULL AND k.suppressed_reason IS NULL AND k.created
ORDER BY t.user_id, r.score DESC, k.id
