-- One page of a user's visible contacts by the last interaction the list shows: the figures'
-- last contact (crm.relationships.last_at, which crm.contact_figures reads; not the cached
-- c.last_interaction_on, which counts Cc'd and bulk mail too), newest first, then those it
-- shows as "never" (no relationship, or one with no counted mail). The dated ones are read in
-- relationships_recent_idx order (0049) joined to contacts by primary key; the undated ones
-- follow in contacts_list_recent_idx order, read only when the dated ones do not fill the
-- window (the cached date only breaks the tie among them). Every ORDER BY ends in the id, so
-- offset paging neither skips nor repeats a row. Filters as in contact_count.sql;
-- `window` = offset + limit.
WITH dated AS MATERIALIZED (
    SELECT c.id, r.last_at, NULL::timestamptz AS tie
    FROM crm.relationships r
    JOIN crm.contacts c ON c.id = r.contact_id
    WHERE r.user_id = %(user_id)s AND r.last_at IS NOT NULL AND c.user_id = %(user_id)s
      AND c.created AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
      AND c.kind = 'person'  -- groups live on /groups (issue 12)
      AND (%(level)s::text IS NULL OR r.level = %(level)s::text)
      AND (%(going_cold)s::boolean IS NULL OR r.going_cold = %(going_cold)s::boolean)
      AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
      AND (%(tag_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = %(tag_id)s::bigint))
      AND (%(list_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_list_members m
          WHERE m.list_id = %(list_id)s::bigint AND m.contact_id = c.id))
      AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
    ORDER BY r.last_at DESC, r.contact_id
    LIMIT %(window)s
), undated AS (
    SELECT c.id, NULL::timestamptz AS last_at, c.last_interaction_on AS tie
    FROM crm.contacts c
    LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
    WHERE c.user_id = %(user_id)s
      AND c.created AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
      AND c.kind = 'person'
      AND r.last_at IS NULL  -- no relationship, or no counted mail: "never"
      AND (SELECT count(*) FROM dated) < %(window)s
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
    ORDER BY c.last_interaction_on DESC NULLS LAST, c.id
    LIMIT %(window)s
), page AS (   -- the page's rows first, so a deep page reads the figures of its own rows only
    SELECT 0 AS part, * FROM dated
    UNION ALL
    SELECT 1 AS part, * FROM undated
    ORDER BY part, last_at DESC, tie DESC NULLS LAST, id
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
ORDER BY p.part, p.last_at DESC, p.tie DESC NULLS LAST, p.id
