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
-- contacts.first_interaction_on is the earliest link's date (kept by extraction): the first
-- message is the lowest-id message of that date linking one of the contact's addresses,
-- found through messages_user_date_idx. A contact whose date finds nothing is scanned.
hinted AS (
    SELECT a.contact_id, f.message_id, f.occurred_on
    FROM addresses a
    JOIN crm.contacts c ON c.id = a.contact_id
    CROSS JOIN LATERAL (
        SELECT m.id AS message_id, m.date AS occurred_on
        FROM crm.messages m
        WHERE m.user_id = %(user_id)s AND m.date = c.first_interaction_on
          AND EXISTS (SELECT 1 FROM crm.contact_links l
                      WHERE l.message_id = m.id AND l.address = ANY(a.addresses))
        ORDER BY m.id
        LIMIT 1
    ) f
),
scanned AS (
    SELECT DISTINCT ON (a.contact_id) a.contact_id, l.message_id, l.occurred_on
    FROM addresses a
    CROSS JOIN LATERAL unnest(a.addresses) AS x (address)
    JOIN crm.contact_links l ON l.user_id = %(user_id)s AND l.address = x.address
    WHERE a.contact_id NOT IN (SELECT contact_id FROM hinted)
    ORDER BY a.contact_id, l.occurred_on, l.message_id
),
firsts AS (
    SELECT * FROM hinted
    UNION ALL
    SELECT * FROM scanned
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
