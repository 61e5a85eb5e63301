-- Add freshly inserted links to name votes and contact counts, store re-chosen names, and mark
-- the persons the batch showed to be groups (never the reverse here).
-- The last statement of an extraction transaction: it locks hot rows (a colleague on every
-- message), so it holds them only until the commit right after. Rows are locked in key order,
-- all of them in this one statement (marking groups in a statement of its own, before, locked
-- them in another order: concurrent batches deadlocked), and FOR NO KEY UPDATE, which does not
-- wait for the key-share locks of foreign-key checks (an analysis storing introductions).
-- Each distinct address is mapped to its contact by key, and contacts are locked by key
-- (= ANY), so the cost follows the batch, not the user's number of contacts (and no join
-- depends on the estimate of a CTE).
WITH fresh AS (
    SELECT * FROM jsonb_to_recordset(%(links)s::jsonb) AS l(
        address text, role text, display_name text, occurred_on timestamptz, visible boolean)
), votes AS (
    INSERT INTO crm.contact_name_votes (user_id, address, display_name, votes)
    SELECT %(user_id)s, address, display_name, count(*) FROM fresh
    WHERE display_name <> ''
    GROUP BY address, display_name
    ORDER BY address, display_name
    ON CONFLICT (user_id, address, display_name)
    DO UPDATE SET votes = crm.contact_name_votes.votes + excluded.votes
), per_address AS (
    SELECT address,
           count(*) FILTER (WHERE role = 'sent_to') AS sent_to,
           count(*) FILTER (WHERE role = 'received_from') AS received_from,
           count(*) FILTER (WHERE role = 'cc') AS cc,
           min(occurred_on) AS first_on,
           max(occurred_on) AS last_on,
           bool_or(visible) AS visible
    FROM fresh
    GROUP BY address
), agg AS (
    SELECT (SELECT a.contact_id FROM crm.contact_addresses a
            WHERE a.user_id = %(user_id)s AND a.address = p.address) AS contact_id,
           sum(p.sent_to)::bigint AS sent_to,
           sum(p.received_from)::bigint AS received_from,
           sum(p.cc)::bigint AS cc,
           min(p.first_on) AS first_on,
           max(p.last_on) AS last_on,
           bool_or(p.visible) AS visible
    FROM per_address p
    GROUP BY 1
), names AS (
    SELECT * FROM jsonb_to_recordset(%(names)s::jsonb) AS n(
        id bigint, name text, first_name text, last_name text, quality smallint, identity_key text)
), groups AS (
    SELECT * FROM jsonb_to_recordset(%(groups)s::jsonb) AS g(id bigint, reason text)
), locked AS (
    SELECT c.id FROM crm.contacts c
    WHERE c.id = ANY(ARRAY(SELECT contact_id FROM agg UNION SELECT id FROM names
                           UNION SELECT id FROM groups))
    ORDER BY c.id FOR NO KEY UPDATE
)
UPDATE crm.contacts c
SET sent_to_count = c.sent_to_count + coalesce(agg.sent_to, 0),
    received_from_count = c.received_from_count + coalesce(agg.received_from, 0),
    cc_count = c.cc_count + coalesce(agg.cc, 0),
    first_interaction_on = least(c.first_interaction_on, agg.first_on),
    last_interaction_on = greatest(c.last_interaction_on, agg.last_on),
    created = c.created OR coalesce(agg.visible, false),
    visible_on = CASE WHEN NOT c.created AND agg.visible THEN %(now)s ELSE c.visible_on END,
    name = coalesce(n.name, c.name),
    first_name = coalesce(n.first_name, c.first_name),
    last_name = coalesce(n.last_name, c.last_name),
    name_quality = coalesce(n.quality, c.name_quality),
    identity_key = CASE WHEN n.id IS NULL THEN c.identity_key ELSE n.identity_key END,
    kind = CASE WHEN g.id IS NOT NULL AND c.kind = 'person' THEN 'group' ELSE c.kind END,
    kind_reason = CASE WHEN g.id IS NOT NULL AND c.kind = 'person' THEN g.reason
                       ELSE c.kind_reason END,
    updated_on = %(now)s
FROM locked
LEFT JOIN agg ON agg.contact_id = locked.id
LEFT JOIN names n ON n.id = locked.id
LEFT JOIN groups g ON g.id = locked.id
WHERE c.id = locked.id
RETURNING c.id, c.created AND c.suppressed_reason IS NULL AND c.merged_into_id IS NULL AS visible
