-- How many of a user's visible contacts match the list filters, for the list without a search
-- (contact_list_search.sql counts its own). Without a level or going-cold filter, only
-- contacts are counted (contacts_list_recent_idx); with one, the scored contacts are counted
-- from their relationships (relationships_level_idx) and the unscored ones added, as
-- contact_list_strength.sql lists them.
SELECT CASE WHEN %(level)s::text IS NULL AND %(going_cold)s::boolean IS NULL THEN (
    SELECT count(*)
    FROM crm.contacts c
    WHERE c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
      AND c.suppressed_reason IS NULL
      AND c.kind = 'person'  -- groups live on /groups (issue 12)
      AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
      AND (%(tag_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = %(tag_id)s::bigint))
      AND (%(list_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_list_members m
          WHERE m.list_id = %(list_id)s::bigint AND m.contact_id = c.id))
      AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
) ELSE (
    SELECT count(*)
    FROM crm.relationships r
    JOIN crm.contacts c ON c.id = r.contact_id
    WHERE r.user_id = %(user_id)s AND c.user_id = %(user_id)s
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
) + (
    SELECT count(*)
    FROM crm.contacts c
    WHERE c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
      AND c.suppressed_reason IS NULL
      AND c.kind = 'person'  -- groups live on /groups (issue 12)
      AND (%(level)s::text IS NULL OR %(level)s::text = 'no connection')
      AND (%(going_cold)s::boolean IS NULL OR NOT %(going_cold)s::boolean)
      AND NOT EXISTS (SELECT FROM crm.relationships r
                      WHERE r.user_id = c.user_id AND r.contact_id = c.id)
      AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
      AND (%(tag_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = %(tag_id)s::bigint))
      AND (%(list_id)s::bigint IS NULL OR EXISTS (
          SELECT FROM crm.contact_list_members m
          WHERE m.list_id = %(list_id)s::bigint AND m.contact_id = c.id))
      AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
) END AS count
