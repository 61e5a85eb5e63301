-- The user's contacts each mention key could mean (keys are lower-cased, one space between
-- words, ' for ’): by full name, first name, first name and last name, first word of the
-- name, name without spaces or with dots, the part of an address before the @, or a whole
-- address. Hidden contacts come too (`hidden`): the caller never links them, but a key that
-- names only a hidden contact must not fall back to a shorter key naming someone else.
-- Each contact's keys are listed, then joined to the mention's keys on equality (a hash join,
-- however many mentions a long note holds).
WITH k AS (
    SELECT DISTINCT key FROM unnest(%(keys)s::text[]) AS k (key)
),
c AS (
    SELECT id, primary_address, suppressed_reason IS NOT NULL AS hidden,
           coalesce(nullif(name, ''), primary_address) AS label,
           lower(replace(regexp_replace(btrim(name), '\s+', ' ', 'g'), '’', '''')) AS full_name,
           lower(replace(btrim(first_name), '’', '''')) AS first,
           lower(replace(btrim(btrim(first_name) || ' ' || btrim(last_name)), '’', ''''))
               AS first_last
    FROM crm.contacts
    WHERE user_id = %(user_id)s AND created AND merged_into_id IS NULL
),
named AS (
    SELECT c.id, c.label, c.hidden, n.key
    FROM c
    CROSS JOIN LATERAL unnest(ARRAY[
        c.full_name, c.first, c.first_last, split_part(c.full_name, ' ', 1),
        replace(c.full_name, ' ', ''), replace(c.full_name, ' ', '.'),
        lower(split_part(c.primary_address, '@', 1)), lower(c.primary_address)
    ]) AS n (key)
    WHERE n.key <> ''
    UNION ALL
    SELECT c.id, c.label, c.hidden, lower(a.address)
    FROM crm.contact_addresses a
    JOIN c ON c.id = a.contact_id
    WHERE a.user_id = %(user_id)s
)
SELECT DISTINCT k.key, named.id, named.label, named.hidden
FROM k
JOIN named ON named.key = k.key
ORDER BY 1, 2
