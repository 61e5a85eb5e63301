-- Counts, dates and visibility of contacts recomputed from their links (merges, unmerges); a
-- contact the user kept (`kept_on`, 0021), or one merged into it, stays visible.
WITH ids AS (
    SELECT unnest(%(ids)s::bigint[]) AS id
), agg AS (
    SELECT a.contact_id,
           count(*) FILTER (WHERE l.role = 'sent_to') AS sent_to,
           count(*) FILTER (WHERE l.role = 'received_from') AS received_from,
           count(*) FILTER (WHERE l.role = 'cc') AS cc,
           min(l.occurred_on) AS first_on,
           max(l.occurred_on) AS last_on,
           bool_or(l.visible) AS visible
    FROM crm.contact_addresses a
    JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
    WHERE a.contact_id IN (SELECT id FROM ids)
    GROUP BY a.contact_id
)
UPDATE crm.contacts c
SET sent_to_count = coalesce(agg.sent_to, 0),
    received_from_count = coalesce(agg.received_from, 0),
    cc_count = coalesce(agg.cc, 0),
    first_interaction_on = agg.first_on,
    last_interaction_on = agg.last_on,
    created = coalesce(agg.visible, false) OR kept.is_kept OR c.created_by_hand,
    visible_on = CASE WHEN coalesce(agg.visible, false) OR kept.is_kept OR c.created_by_hand THEN coalesce(c.visible_on, %(now)s) END,
    updated_on = %(now)s
FROM ids LEFT JOIN agg ON agg.contact_id = ids.id
CROSS JOIN LATERAL (  -- kept by the user, itself or a contact merged into it
    SELECT EXISTS (SELECT 1 FROM crm.contacts k
                   WHERE (k.id = ids.id OR k.merged_into_id = ids.id) AND k.kept_on IS NOT NULL) AS is_kept
) kept
WHERE c.id = ids.id
