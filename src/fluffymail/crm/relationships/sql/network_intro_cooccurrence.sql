-- Warm intros through the user's contacts: who appears with %(target)s in the user's own mail.
-- Reads the user's %(max_messages)s most recent messages with the target (by the target's
-- links, or for a target with more than %(scan_links)s links by the user's mail newest
-- first, whichever reads fewer rows); per connector
-- contact, one weight per shared thread: 1 when one of the two wrote the message to the
-- other, %(co_weight)s when both were only recipients, halved every %(half_life)s days since
-- the thread's last shared message; strength = 100 · (1 − exp(−W / %(scale)s)) (see
-- NETWORK.md). Only connectors the user has a relationship with (the first link) count, the
-- target's own contact is not one; the %(candidates)s best paths (by their weaker link) are
-- returned.
WITH volume AS (
    -- the target's links, as extraction counts them: which way to find its latest messages
    SELECT coalesce(max(k.sent_to_count + k.received_from_count + k.cc_count), 0) AS links
    FROM crm.contact_addresses a
    JOIN crm.contacts k ON k.id = a.contact_id
    WHERE a.user_id = %(user_id)s AND a.address = %(target)s
),
recent AS (
    -- most targets: all their links (contact_links_address_idx), the latest kept
    (SELECT message_id
     FROM crm.contact_links
     WHERE user_id = %(user_id)s AND address = %(target)s
       AND (SELECT links FROM volume) <= %(scan_links)s
     ORDER BY occurred_on DESC NULLS LAST, message_id DESC
     LIMIT %(max_messages)s)
    UNION ALL
    -- a target on a large share of the mail: the user's mail newest first until enough hits
    (SELECT m.id
     FROM crm.messages m
     WHERE m.user_id = %(user_id)s AND (SELECT links FROM volume) > %(scan_links)s
       AND EXISTS (SELECT 1 FROM crm.contact_links l
                   WHERE l.message_id = m.id AND l.address = %(target)s)
     ORDER BY m.date DESC
     LIMIT %(max_messages)s)
),
target_messages AS (
    SELECT m.id AS message_id, coalesce(m.thread_id, -m.id) AS thread_id, m.date,
           m.from_address = %(target)s AS target_wrote
    FROM (SELECT DISTINCT message_id FROM recent) r
    JOIN crm.messages m ON m.id = r.message_id
),
target_contacts AS (
    SELECT coalesce(k.merged_into_id, k.id) AS contact_id
    FROM crm.contact_addresses a
    JOIN crm.contacts k ON k.id = a.contact_id
    WHERE a.user_id = %(user_id)s AND a.address = %(target)s
),
pairs AS (
    SELECT l.address, t.message_id, t.thread_id, t.date,
           bool_or(l.role = 'received_from') OR bool_or(t.target_wrote) AS direct
    FROM target_messages t
    JOIN crm.contact_links l ON l.message_id = t.message_id
    WHERE l.address <> %(target)s AND l.role <> 'reply_to'
    GROUP BY l.address, t.message_id, t.thread_id, t.date
),
per_thread AS (
    SELECT coalesce(k.merged_into_id, k.id) AS contact_id,
           p.thread_id,
           bool_or(p.direct) AS direct,
           max(p.date) AS last_at,
           (array_agg(p.message_id ORDER BY p.date DESC NULLS LAST, p.message_id DESC))[1]
               AS message_id
    FROM pairs p
    JOIN crm.contact_addresses a ON a.user_id = %(user_id)s AND a.address = p.address
    JOIN crm.contacts k ON k.id = a.contact_id
    GROUP BY 1, 2
),
connectors AS (
    SELECT contact_id,
           count(*) AS threads,
           count(*) FILTER (WHERE direct) AS direct_threads,
           sum(CASE WHEN direct THEN 1.0 ELSE %(co_weight)s::float8 END
               * coalesce(power(0.5, greatest(extract(epoch FROM
                     coalesce(%(now)s::timestamptz, now()) - last_at), 0)
                     / 86400.0 / %(half_life)s::float8), 0)) AS weight,
           max(last_at) AS last_at,
           (array_agg(message_id ORDER BY last_at DESC NULLS LAST, message_id DESC))[1:3]
               AS message_ids
    FROM per_thread
    WHERE contact_id NOT IN (SELECT contact_id FROM target_contacts)
    GROUP BY contact_id
),
ranked AS (
    SELECT c.*, r.score, r.level, r.evidence,
           round((100 * (1 - exp(-greatest(c.weight, 0) / %(scale)s::float8)))::numeric, 1)::float8
               AS strength
    FROM connectors c
    JOIN crm.relationships r ON r.user_id = %(user_id)s AND r.contact_id = c.contact_id
    WHERE r.score > 0
)
SELECT c.contact_id, k.primary_address, k.name, c.threads, c.direct_threads,
       c.weight::float8 AS weight, c.strength, c.last_at, c.message_ids,
       c.score, c.level, c.evidence
FROM ranked c
JOIN crm.contacts k ON k.id = c.contact_id
WHERE k.suppressed_reason IS NULL
ORDER BY least(c.score, c.strength) DESC, c.score + c.strength DESC, k.primary_address
LIMIT %(candidates)s
