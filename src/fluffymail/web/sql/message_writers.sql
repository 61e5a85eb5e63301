-- People who wrote about `query` (message_query.sql): the senders of the user's newest `cap`
-- messages matching it that are visible contacts (as on the contacts list: created, not merged
-- away, not hidden or suppressed, people not groups), most such messages first. The matches
-- come from the narrow crm.message_search (0031_message_search_table.sql).
WITH hits AS (
    SELECT m.from_address, s.date
    FROM (
        SELECT s.message_id, s.date
        FROM crm.message_search s
        WHERE s.user_id = %(user_id)s
          AND s.vector @@ CASE WHEN %(rare)s::boolean THEN (SELECT %(query)s::tsquery)
                               ELSE %(query)s::tsquery END  -- as in message_list.sql
        ORDER BY CASE WHEN %(by_key)s::boolean THEN s.date + interval '0 s' ELSE s.date END
                     DESC NULLS LAST,
                 s.message_id DESC
        LIMIT %(cap)s
    ) s
    JOIN crm.messages m ON m.id = s.message_id
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
