-- The user's contacts among `ids` as a spreadsheet shows them (CSV export of a selection):
-- current title and phones (a value the user cleared is empty), tags and notes, and the
-- figures the list and the contact page show (crm.contact_figures, not the cached link counts).
SELECT c.id, c.name, c.first_name, c.last_name, c.primary_address,
       co.name AS company, co.domain AS company_domain,
       (SELECT f.value FROM crm.contact_facts f
        WHERE f.contact_id = c.id AND f.field = 'title' AND f.is_current AND f.value <> ''
        ORDER BY f.observed_on DESC LIMIT 1) AS title,
       (SELECT string_agg(f.value, '; ' ORDER BY f.value) FROM crm.contact_facts f
        WHERE f.contact_id = c.id AND f.field = 'phone' AND f.is_current AND f.value <> '')
           AS phone,
       (SELECT to_jsonb(f) FROM crm.contact_figures f WHERE f.contact_id = c.id) AS figures,
       (SELECT string_agg(t.name, '; ' ORDER BY lower(t.name))
        FROM crm.contact_tags ct JOIN crm.tags t ON t.id = ct.tag_id
        WHERE ct.contact_id = c.id) AS tags,
       (SELECT string_agg(n.body, E'\n\n---\n\n' ORDER BY n.created_on, n.id)
        FROM crm.notes n WHERE n.contact_id = c.id) AS notes
FROM crm.contacts c
LEFT JOIN crm.companies co ON co.id = c.company_id
WHERE c.user_id = %(user_id)s AND c.id = ANY(%(ids)s::bigint[]) AND c.merged_into_id IS NULL
ORDER BY lower(coalesce(nullif(c.name, ''), c.primary_address)), c.id
