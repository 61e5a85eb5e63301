-- One page of a user's visible contacts sorted by tag: those tagged first, by the alphabetically
-- first of their tags' names, then by name as in contact_list_name.sql (the same rows in the same
-- order). No index serves that order, so every match is sorted, but narrowly: the page's ids are
-- chosen first from the matches joined once to their taggings (a first tag per contact from a
-- per-row subquery cost 54 ms at 10k contacts, this 15 ms; bench/crm_scale_bench.py), and the
-- relationship, company and figures are read for the page's rows only. Filters as in
-- contact_count.sql.
WITH page AS MATERIALIZED (
    SELECT c.id, min(lower(t.name)) AS first_tag,
           lower(coalesce(nullif(c.name, ''), c.primary_address)) AS label
    FROM crm.contacts c
    LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
    LEFT JOIN crm.contact_tags ta ON ta.contact_id = c.id
    LEFT JOIN crm.tags t ON t.id = ta.tag_id
    WHERE c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
      AND c.suppressed_reason IS NULL
      AND c.kind = 'person'  -- groups live on /groups (issue 12)
      AND (%(level)s::text IS NULL OR coalesce(r.level, 'no connection') = %(level)s::text)
      AND (%(going_cold)s::boolean IS NULL
           OR coalesce(r.going_cold, false) = %(going_cold)s::boolean)
      AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
      AND (%(tag_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_tags ct
          WHERE ct.contact_id = c.id AND ct.tag_id = %(tag_id)s::bigint))
      AND (%(list_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_list_members m
          WHERE m.list_id = %(list_id)s::bigint AND m.contact_id = c.id))
      AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
    GROUP BY c.id
    ORDER BY first_tag NULLS LAST, label, c.id
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT c.id, c.name, c.primary_address, c.company_id, co.name AS company_name,
       co.domain AS company_domain, c.is_internal,
       c.first_interaction_on, c.last_interaction_on, c.sent_to_count, c.received_from_count,
       (SELECT to_jsonb(f) FROM crm.contact_figures f WHERE f.contact_id = c.id) AS figures,
       r.score, coalesce(r.level, 'no connection') AS level, r.trend,
       coalesce(r.going_cold, false) AS going_cold
FROM page p
JOIN crm.contacts c ON c.id = p.id
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
LEFT JOIN crm.companies co ON co.id = c.company_id
ORDER BY p.first_tag NULLS LAST, p.label, p.id
