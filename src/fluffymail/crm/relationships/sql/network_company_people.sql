-- The %(limit)s people at one of the user's companies with the strongest relationships in the
-- team, each with every team member who knows them. A person is the user's own contact when
-- any address matches (`own_contact_id`), else a primary address.
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
),
held AS (
    SELECT t.user_id, k.id AS contact_id, k.primary_address, k.name AS contact_name,
           r.score, r.level, r.last_at, r.evidence, own.contact_id AS own_contact_id,
           coalesce('c' || own.contact_id, 'a' || k.primary_address) AS person
    FROM team t
    JOIN company ON true
    JOIN crm.companies co ON co.user_id = t.user_id AND co.domain = company.domain
    JOIN crm.contacts k ON k.company_id = co.id
    JOIN crm.relationships r ON r.user_id = t.user_id AND r.contact_id = k.id
    LEFT JOIN LATERAL (
        -- the user's own contact for this person, by any of the holder contact's addresses
        SELECT min(coalesce(uk.merged_into_id, uk.id)) AS contact_id
        FROM crm.contact_addresses ha
        JOIN crm.contact_addresses ua ON ua.user_id = %(user_id)s AND ua.address = ha.address
        JOIN crm.contacts uk ON uk.id = ua.contact_id
        WHERE ha.contact_id = k.id AND ha.user_id = t.user_id
    ) own ON true
    WHERE r.score > 0 AND k.merged_into_id IS NULL AND k.suppressed_reason IS NULL AND k.created
),
top AS (
    SELECT person, max(score) AS best
    FROM held
    GROUP BY person
    ORDER BY best DESC, person
    LIMIT %(limit)s
)
SELECT h.user_id, u.email, u.name, h.user_id = %(user_id)s AS is_self,
       h.contact_id, h.primary_address, h.contact_name, h.own_contact_id, h.person,
       h.score, h.level, h.last_at, h.evidence
FROM held h
JOIN top ON top.person = h.person
JOIN crm.users u ON u.id = h.user_id
ORDER BY top.best DESC, h.person, h.score DESC, h.user_id <> %(user_id)s, h.user_id
