-- Companies per registrable domain; concurrent inserts of one domain keep the first. A domain
-- whose company the user merged into another answers that other company.
WITH input AS (
    SELECT DISTINCT ON (domain) domain, name
    FROM jsonb_to_recordset(%(companies)s::jsonb) AS c(domain text, name text)
    ORDER BY domain
), added AS (
    INSERT INTO crm.companies (user_id, domain, name, created_on, updated_on)
    SELECT %(user_id)s, domain, name, %(now)s, %(now)s FROM input ORDER BY domain
    ON CONFLICT (user_id, domain) DO NOTHING
    RETURNING id, domain
)
SELECT id, domain FROM added
UNION ALL
SELECT coalesce(c.merged_into_id, c.id), c.domain FROM crm.companies c
WHERE c.user_id = %(user_id)s AND c.domain IN (SELECT domain FROM input)
