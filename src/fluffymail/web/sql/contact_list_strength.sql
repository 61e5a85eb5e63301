-- One page of a user's visible contacts, strongest first: the scored ones in score order
-- (relationships_rank_idx, or relationships_level_idx under a level filter), then those not
-- scored yet, most recent first (contacts_list_recent_idx), read only when the scored ones do
-- not fill the window. Filters as in contact_count.sql; `window` = offset + limit.
WITH scored AS MATERIALIZED (
    SELECT c.id, c.name, c.primary_address, c.company_id, c.is_internal,
           c.first_interaction_on, c.last_interaction_on, c.sent_to_count, c.received_from_count,
           r.score, r.level, r.trend, r.going_cold
    FROM crm.relationships r
    JOIN crm.contacts c ON c.id = r.contact_id
    WHERE r.user_id = %(user_id)s AND c.user_id = %(user_id)s
      AND c.created AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
      AND c.kind = 'person'  -- a group is never ranked among people (issue 12; /groups)
      AND (%(level)s::text IS NULL OR r.level = %(level)s::text)
      AND (%(going_cold)s::boolean IS NULL OR r.going_cold = %(going_cold)s::boolean)
      AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
      AND (%(tag_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = %(tag_id)s::bigint))
      AND (%(list_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_list_members m
          WHERE m.list_id = %(list_id)s::bigint AND m.contact_id = c.id))
      AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
    ORDER BY r.score DESC, r.contact_id
    LIMIT %(window)s
), unscored AS (
    SELECT c.id, c.name, c.primary_address, c.company_id, c.is_internal,
           c.first_interaction_on, c.last_interaction_on, c.sent_to_count, c.received_from_count,
           NULL::real AS score, 'no connection' AS level, NULL AS trend, false AS going_cold
    FROM crm.contacts c
    WHERE c.user_id = %(user_id)s
      AND c.created AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
      AND c.kind = 'person'  -- groups live on /groups (issue 12)
      AND (SELECT count(*) FROM scored) < %(window)s
      AND NOT EXISTS (SELECT FROM crm.relationships r
                      WHERE r.user_id = c.user_id AND r.contact_id = c.id)
      AND (%(level)s::text IS NULL OR %(level)s::text = 'no connection')
      AND (%(going_cold)s::boolean IS NULL OR NOT %(going_cold)s::boolean)
      AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
      AND (%(tag_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = %(tag_id)s::bigint))
      AND (%(list_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_list_members m
          WHERE m.list_id = %(list_id)s::bigint AND m.contact_id = c.id))
      AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
    ORDER BY c.last_interaction_on DESC NULLS LAST, c.id
    LIMIT %(window)s
), page AS (
    -- the page's rows first, then their figures: an expression of the SELECT list is computed
    -- for the rows OFFSET skips too, and a contact's figures count its links (page 20 of the
    -- strongest read the figures of 1,000 contacts: 0.9 s at 1M messages, issue 19)
    SELECT *
    FROM (SELECT 0 AS part, * FROM scored UNION ALL SELECT 1 AS part, * FROM unscored) ranked
    ORDER BY part, score DESC,
             CASE WHEN part = 1 THEN last_interaction_on END DESC NULLS LAST, id
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT p.id, p.name, p.primary_address, p.company_id, co.name AS company_name,
       co.domain AS company_domain, p.is_internal,
       p.first_interaction_on, p.last_interaction_on, p.sent_to_count, p.received_from_count,
       (SELECT to_jsonb(f) FROM crm.contact_figures f WHERE f.contact_id = p.id) AS figures,
       p.score, p.level, p.trend, p.going_cold
FROM page p
LEFT JOIN crm.companies co ON co.id = p.company_id
ORDER BY p.part, p.score DESC,
         CASE WHEN p.part = 1 THEN p.last_interaction_on END DESC NULLS LAST, p.id
