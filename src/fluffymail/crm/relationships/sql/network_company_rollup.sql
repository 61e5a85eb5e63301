-- One of the user's companies seen by the whole team, in one pass over the team's contacts at
-- that domain: the company, its totals, and the %(limit)s people with the strongest
-- relationships, one row per (person, team member who knows them); a single row with NULL
-- person columns when nobody has a relationship there, no row when the company is not the
-- user's. A person is the user's own contact when any address matches, else a primary address.
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
    SELECT t.user_id, k.id AS contact_id, k.primary_address, k.name AS contact_name,
           k.last_interaction_on, r.score, r.level, r.last_at, r.evidence,
           CASE WHEN t.user_id = %(user_id)s THEN k.id ELSE own.contact_id END AS own_contact_id
    FROM team t
    JOIN company ON true
    JOIN crm.companies co ON co.user_id = t.user_id AND co.domain = company.domain
    JOIN crm.contacts k ON k.company_id = co.id
    LEFT JOIN crm.relationships r ON r.user_id = t.user_id AND r.contact_id = k.id
    LEFT JOIN LATERAL (
        -- a teammate's contact: the user's own contact for them, by any of its addresses
        SELECT min(coalesce(uk.merged_into_id, uk.id)) AS contact_id
        FROM crm.contact_addresses ha
        JOIN crm.contact_addresses ua ON ua.user_id = %(user_id)s AND ua.address = ha.address
        JOIN crm.contacts uk ON uk.id = ua.contact_id
        WHERE ha.contact_id = k.id AND ha.user_id = t.user_id AND t.user_id <> %(user_id)s
    ) own ON true
    WHERE k.merged_into_id IS NULL AND k.suppressed_reason IS NULL AND k.created
),
people AS (
    SELECT h.*, coalesce('c' || h.own_contact_id, 'a' || h.primary_address) AS person
    FROM held h
),
top AS (
    SELECT person, max(score) AS best
    FROM people
    WHERE score > 0
    GROUP BY person
    ORDER BY best DESC, person
    LIMIT %(limit)s
),
known AS (
    SELECT p.*, top.best, u.email, u.name, p.user_id = %(user_id)s AS is_self
    FROM people p
    JOIN top ON top.person = p.person
    JOIN crm.users u ON u.id = p.user_id
    WHERE p.score > 0
)
SELECT c.id AS company_id, c.domain, c.name AS company_name,
       (SELECT count(DISTINCT person) FROM people) AS people,
       (SELECT count(DISTINCT user_id) FROM people WHERE score > 0) AS team_members,
       (SELECT coalesce(max(score), 0) FROM people) AS strongest_score,
       (SELECT max(last_interaction_on) FROM people) AS last_interaction,
       k.person, k.user_id, k.email, k.name, k.is_self, k.contact_id, k.primary_address,
       k.contact_name, k.own_contact_id, k.score, k.level, k.last_at, k.evidence
FROM company c
LEFT JOIN known k ON true
ORDER BY k.best DESC, k.person, k.score DESC, k.user_id <> %(user_id)s, k.user_id
