-- The RFC 5322 groups (`To: Team: a@x.com, b@y.com;`) the user's mail was addressed to, as the
-- parser recorded them in `extra_headers.address_groups`. Such a group has no address: it is
-- known by its name (ignoring case), with the members seen under it and the messages naming it.
WITH named AS (
    SELECT m.id, m.date, g->>'name' AS name, g->'members' AS members
    FROM crm.messages m
    CROSS JOIN LATERAL jsonb_array_elements(m.extra_headers->'address_groups') g
    WHERE m.user_id = %(user_id)s AND m.extra_headers ? 'address_groups'
)
SELECT min(n.name) AS name, count(DISTINCT n.id) AS messages, max(n.date) AS last_seen,
       array_agg(DISTINCT a.member ORDER BY a.member) AS members
FROM named n
CROSS JOIN LATERAL jsonb_array_elements_text(n.members) a(member)
GROUP BY lower(n.name)
ORDER BY max(n.date) DESC NULLS LAST, lower(n.name)
LIMIT %(limit)s
