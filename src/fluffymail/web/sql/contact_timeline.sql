-- A contact's interactions: each message linked to any of its addresses, newest first, with
-- the roles the contact had in it; `total` counts them all. The page is chosen from the links
-- alone (contact_links_address_idx holds their role and date: an index-only scan), and only
-- its messages are read: reading every message of a contact with 13,000 of them to sort them
-- took 110 ms at 1M messages (issue 19). A link's date is its message's (extraction copies it;
-- 0056 aligned the links 0034 left with a future date).
WITH linked AS (
    SELECT l.message_id, max(l.occurred_on) AS date,
           array_agg(DISTINCT l.role ORDER BY l.role) AS roles
    FROM crm.contact_addresses a
    JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
    WHERE a.contact_id = %(id)s AND a.user_id = %(user_id)s
    GROUP BY l.message_id
), page AS (
    SELECT message_id, date, roles, count(*) OVER () AS total
    FROM linked
    ORDER BY date DESC NULLS LAST, message_id DESC
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT m.id, m.date, m.subject, m.snippet, m.from_address, m.from_name, m.thread_id,
       p.roles, p.total
FROM page p
JOIN crm.messages m ON m.id = p.message_id AND m.user_id = %(user_id)s
ORDER BY p.date DESC NULLS LAST, p.message_id DESC
