-- The first message (by date, then id) with each of the user's contacts, and its From/To/Cc,
-- each participant marked as the user, internal (a colleague contact or a teammate) or neither.
-- Merged contacts are resolved to the contact they were merged into.
WITH wanted AS (
    SELECT DISTINCT coalesce(c.merged_into_id, c.id) AS contact_id
    FROM crm.contacts c
    WHERE c.user_id = %(user_id)s AND c.id = ANY(%(contact_ids)s::bigint[])
),
addresses AS (
    SELECT w.contact_id, array_agg(a.address ORDER BY a.address) AS addresses
    FROM wanted w
    JOIN crm.contact_addresses a ON a.contact_id = w.contact_id AND a.user_id = %(user_id)s
    GROUP BY w.contact_id
),
firsts AS (
    SELECT DISTINCT ON (a.contact_id) a.contact_id, f.message_id, f.occurred_on
    FROM addresses a
    CROSS JOIN LATERAL unnest(a.addresses) AS x (address)
    CROSS JOIN LATERAL (
        SELECT l.message_id, l.occurred_on
        FROM crm.contact_links l
        WHERE l.user_id = %(user_id)s AND l.address = x.address
        ORDER BY l.occurred_on, l.message_id
        LIMIT 1
    ) f
    ORDER BY a.contact_id, f.occurred_on, f.message_id
),
selves AS (
    SELECT address FROM crm.user_aliases WHERE user_id = %(user_id)s
    UNION
    SELECT email FROM crm.users WHERE id = %(user_id)s
),
teammates AS (
    SELECT u.email
    FROM crm.workspace_members m1
    JOIN crm.workspace_members m2 ON m2.workspace_id = m1.workspace_id
    JOIN crm.users u ON u.id = m2.user_id
    WHERE m1.user_id = %(user_id)s
)
SELECT w.contact_id,
       (SELECT email FROM crm.users WHERE id = %(user_id)s) AS user_email,
       coalesce(a.addresses, '{}') AS addresses,
       f.message_id,
       f.occurred_on,
       coalesce(p.people, '[]') AS participants
FROM wanted w
LEFT JOIN addresses a ON a.contact_id = w.contact_id
LEFT JOIN firsts f ON f.contact_id = w.contact_id
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object(
               'role', p.role,
               'position', p.position,
               'address', p.address,
               'is_user', p.address IN (SELECT address FROM selves),
               'internal', p.address IN (SELECT email FROM teammates) OR coalesce(k.is_internal, false),
               'contact_id', coalesce(k.merged_into_id, k.id)
           ) ORDER BY p.role, p.position) AS people
    FROM crm.message_participants p
    LEFT JOIN crm.contact_addresses a ON a.user_id = %(user_id)s AND a.address = p.address
    LEFT JOIN crm.contacts k ON k.id = a.contact_id
    WHERE p.message_id = f.message_id AND p.valid AND p.role IN ('from', 'to', 'cc')
) p ON true
ORDER BY w.contact_id
