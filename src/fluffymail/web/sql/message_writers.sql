-- People who wrote about `q`: the senders of the user's newest `cap` messages matching it that
-- are visible contacts (as on the contacts list: created, not merged away, not hidden or
-- suppressed, people not groups), most such messages first.
WITH hits AS (
    SELECT m.from_address, m.date
    FROM crm.messages m
    WHERE m.user_id = %(user_id)s
      AND m.search @@ websearch_to_tsquery('simple', %(q)s::text)
    ORDER BY m.date DESC NULLS LAST, m.id DESC
    LIMIT %(cap)s
)
SELECT c.id, c.name, c.primary_address, co.name AS company_name,
       count(*) AS messages, max(h.date) AS last_on
FROM hits h
JOIN crm.contact_addresses a ON a.user_id = %(user_id)s AND a.address = h.from_address
JOIN crm.contacts c ON c.id = a.contact_id AND c.user_id = a.user_id
LEFT JOIN crm.companies co ON co.id = c.company_id
WHERE c.created AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
  AND c.kind = 'person'
GROUP BY c.id, co.name
ORDER BY count(*) DESC, max(h.date) DESC NULLS LAST, c.id
LIMIT %(limit)s
