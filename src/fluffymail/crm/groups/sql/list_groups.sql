-- A user's live groups, most recently used first, with how many of the user's messages went
-- to each and how many people (the user left out, as in group_members.sql) wrote to it: from
-- the counts kept per To/Cc address and sender (crm.recipient_senders, migration 0056; a
-- group of several addresses adds up theirs).
WITH me AS (
    SELECT email AS address FROM crm.users WHERE id = %(user_id)s
    UNION SELECT address FROM crm.user_aliases WHERE user_id = %(user_id)s
)
SELECT c.id, c.primary_address AS address, c.name, c.kind_reason AS reason,
       c.last_interaction_on,
       coalesce(sum(rs.messages), 0) AS messages,
       count(DISTINCT rs.sender) FILTER (
           WHERE rs.sender <> '' AND rs.sender NOT IN (SELECT address FROM me)) AS members
FROM crm.contacts c
LEFT JOIN crm.contact_addresses a ON a.contact_id = c.id
LEFT JOIN crm.recipient_senders rs ON rs.user_id = c.user_id AND rs.recipient = a.address
WHERE c.user_id = %(user_id)s AND c.kind = 'group'
  AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
GROUP BY c.id
ORDER BY c.last_interaction_on DESC NULLS LAST, c.id
LIMIT %(limit)s
