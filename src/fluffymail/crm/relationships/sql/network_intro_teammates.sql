-- Warm intros through teammates: each teammate (of any of the user's workspaces) with their
-- own relationship with %(target)s, and the user's relationship with the teammate (by any
-- of the teammate's addresses) when the user has one. Teammates who are the target are left out.
WITH mates AS (
    SELECT m2.user_id, array_agg(DISTINCT w.name ORDER BY w.name) AS workspaces
    FROM crm.workspace_members m1
    JOIN crm.workspace_members m2
      ON m2.workspace_id = m1.workspace_id AND m2.user_id <> m1.user_id
    JOIN crm.workspaces w ON w.id = m1.workspace_id
    WHERE m1.user_id = %(user_id)s
    GROUP BY m2.user_id
),
mate_addresses AS (
    SELECT m.user_id, u.email AS address FROM mates m JOIN crm.users u ON u.id = m.user_id
    UNION
    SELECT m.user_id, a.address FROM mates m JOIN crm.user_aliases a ON a.user_id = m.user_id
),
second AS (
    SELECT DISTINCT ON (m.user_id) m.user_id, r.score, r.level, r.evidence
    FROM mates m
    JOIN crm.contact_addresses a ON a.user_id = m.user_id AND a.address = %(target)s
    JOIN crm.contacts k ON k.id = a.contact_id
    JOIN crm.relationships r
      ON r.user_id = m.user_id AND r.contact_id = coalesce(k.merged_into_id, k.id)
    WHERE r.score > 0 AND k.suppressed_reason IS NULL
    ORDER BY m.user_id, r.score DESC
),
first AS (
    SELECT DISTINCT ON (ma.user_id)
           ma.user_id, coalesce(k.merged_into_id, k.id) AS contact_id,
           r.score, r.level, r.evidence
    FROM mate_addresses ma
    JOIN crm.contact_addresses a ON a.user_id = %(user_id)s AND a.address = ma.address
    JOIN crm.contacts k ON k.id = a.contact_id
    LEFT JOIN crm.relationships r
      ON r.user_id = %(user_id)s AND r.contact_id = coalesce(k.merged_into_id, k.id)
    WHERE ma.user_id IN (SELECT user_id FROM second)
    ORDER BY ma.user_id, r.score DESC NULLS LAST
)
SELECT s.user_id, u.email, u.name, m.workspaces,
       s.score AS second_score, s.level AS second_level, s.evidence AS second_evidence,
       f.contact_id AS first_contact_id, f.score AS first_score, f.level AS first_level,
       f.evidence AS first_evidence
FROM second s
JOIN mates m ON m.user_id = s.user_id
JOIN crm.users u ON u.id = s.user_id
LEFT JOIN first f ON f.user_id = s.user_id
WHERE NOT EXISTS (SELECT 1 FROM mate_addresses ma
                  WHERE ma.user_id = s.user_id AND ma.address = %(target)s)
ORDER BY s.user_id
