-- One page of a user's visible contacts by name (the address when unnamed), read in
-- contacts_list_name_idx order (relationships joined per row), then the page's figures and
-- companies. Filters as in contact_count.sql.
-- The tag sort is contact_list_tag.sql.
WITH page AS (
    -- the page's rows first, then their figures (as contact_list_strength.sql: an expression
    -- of the SELECT list is computed for the rows OFFSET skips too)
    SELECT c.id, c.name, c.primary_address, c.company_id, c.is_internal,
           c.first_interaction_on, c.last_interaction_on, c.sent_to_count,
           c.received_from_count, r.score, coalesce(r.level, 'no connection') AS level, r.trend,
           coalesce(r.going_cold, false) AS going_cold,
           lower(coalesce(nullif(c.name, ''), c.primary_address)) AS label
    FROM crm.contacts c
    LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
    WHERE c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
      AND c.suppressed_reason IS NULL
      AND c.kind = 'person'  -- groups live on /groups (issue 12)
      AND (%(level)s::text IS NULL OR coalesce(r.level, 'no connection') = %(level)s::text)
      AND (%(going_cold)s::boolean IS NULL
           OR coalesce(r.going_cold, false) = %(going_cold)s::boolean)
      AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
      AND (%(tag_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = %(tag_id)s::bigint))
      AND (%(list_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_list_members m
          WHERE m.list_id = %(list_id)s::bigint AND m.contact_id = c.id))
      AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
    ORDER BY lower(coalesce(nullif(c.name, ''), c.primary_address)), c.id
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT p.id, p.name, p.primary_address, p.company_id, co.name AS company_name,
       co.domain AS company_domain, p.is_internal,
       p.first_interaction_on, p.last_interaction_on, p.sent_to_count, p.received_from_count,
       (SELECT to_jsonb(f) FROM crm.contact_figures f WHERE f.contact_id = p.id) AS figures,
       p.score, p.level, p.trend, p.going_cold
FROM page p
LEFT JOIN crm.companies co ON co.id = p.company_id
ORDER BY p.label, p.id
