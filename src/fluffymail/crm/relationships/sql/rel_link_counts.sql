-- Contact links per scoring contact on the user's messages with id in (lo, hi]. A merged
-- contact's links count for the contact it was merged into; suppressed contacts score nothing.
SELECT t.id AS contact_id, count(*) AS links
FROM crm.contact_links l
JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
JOIN crm.contacts c ON c.id = a.contact_id
JOIN crm.contacts t ON t.id = coalesce(c.merged_into_id, c.id)
WHERE l.user_id = %(user_id)s AND l.message_id > %(lo)s AND l.message_id <= %(hi)s
  AND t.suppressed_reason IS NULL
GROUP BY t.id
