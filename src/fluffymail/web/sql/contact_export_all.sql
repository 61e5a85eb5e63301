-- Every visible contact of the user that a list or filter selects (filters as in
-- contact_count.sql; the search's words are found in names, addresses and company names,
-- ignoring case and accents, as the list's search finds them), by name, in the columns of
-- contact_export.sql. Read with a server-side cursor.
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
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
LEFT JOIN crm.companies co ON co.id = c.company_id
WHERE c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
  AND c.suppressed_reason IS NULL
  AND c.kind = 'person'  -- groups live on /groups (issue 12)
  AND (%(level)s::text IS NULL OR coalesce(r.level, 'no connection') = %(level)s::text)
  AND (%(going_cold)s::boolean IS NULL OR coalesce(r.going_cold, false) = %(going_cold)s::boolean)
  AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
  AND (%(tag_id)s::bigint IS NULL OR EXISTS (
      SELECT FROM crm.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = %(tag_id)s::bigint))
  AND (%(list_id)s::bigint IS NULL OR EXISTS (
      SELECT FROM crm.contact_list_members m
      WHERE m.list_id = %(list_id)s::bigint AND m.contact_id = c.id))
  AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
  AND NOT EXISTS (  -- every word of the search, as contact_list_search.sql finds them
      SELECT FROM (SELECT crm.fold(word) AS w FROM unnest(%(words)s::text[]) word) words
      WHERE strpos(crm.fold(c.name), w) = 0 AND strpos(crm.fold(coalesce(co.name, '')), w) = 0
        AND NOT EXISTS (SELECT FROM crm.contact_addresses a
                        WHERE a.contact_id = c.id AND strpos(crm.fold(a.address), w) > 0))
ORDER BY lower(coalesce(nullif(c.name, ''), c.primary_address)), c.id
