-- One of the user's companies seen by the whole team: distinct people (the user's own contact
-- for them when any address matches, else the primary address),
-- team members with a relationship there, the strongest score and the last interaction.
WITH team AS (
    SELECT %(user_id)s::bigint AS user_id
    UNION
    SELECT m2.user_id
    FROM crm.workspace_members m1
    JOIN crm.workspace_members m2 ON m2.workspace_id = m1.workspace_id
    WHERE m1.user_id = %(user_id)s
),
company AS (
    SELECT id, domain, name FROM crm.companies WHERE id = %(company_id)s AND user_id = %(user_id)s
),
held AS (
    SELECT t.user_id, coalesce('c' || own.contact_id, 'a' || k.primary_address) AS person,
           k.last_interaction_on, r.score
    FROM team t
    JOIN company ON true
    JOIN crm.companies co ON co.user_id = t.user_id AND co.domain = company.domain
    JOIN crm.contacts k ON k.company_id = co.id
    LEFT JOIN crm.relationships r ON r.user_id = t.user_id AND r.contact_id = k.id
    LEFT JOIN LATERAL (
        -- the user's own contact for this person, by any of the holder contact's addresses
        SELECT min(coalesce(uk.merged_into_id, uk.id)) AS contact_id
        FROM crm.contact_addresses ha
        JOIN crm.contact_addresses ua ON ua.user_id = %(user_id)s AND ua.address = ha.address
        JOIN crm.contacts uk ON uk.id = ua.contact_id
        WHERE ha.contact_id = k.id AND ha.user_id = t.user_id
    ) own ON true
    WHERE k.merged_into_id IS NULL AND k.suppressed_reason IS NULL AND k.created
)
SELECT company.id, company.domain, company.name,
       (SELECT count(DISTINCT person) FROM held) AS people,
       (SELECT count(DISTINCT user_id) FROM held WHERE score > 0) AS team_members,
       (SELECT coalesce(max(score), 0) FROM held) AS strongest_score,
       (SELECT max(last_interaction_on) FROM held) AS last_interaction
FROM company
