-- When the newest message between the user and the contact was sent (undated: when stored),
-- over the same messages as summary_load_messages.sql: new mail since then means re-summarise.
SELECT max(coalesce(m.date, m.created_on)) AS newest
FROM crm.contact_addresses a
JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
JOIN crm.messages m ON m.id = l.message_id
WHERE a.user_id = %(user_id)s AND a.contact_id = %(contact_id)s
  AND (
      l.role = 'received_from'
      OR (l.role IN ('sent_to', 'cc') AND (
          lower(m.from_address) = (SELECT u.email FROM crm.users u WHERE u.id = m.user_id)
          OR EXISTS (
              SELECT 1 FROM crm.user_aliases ua
              WHERE ua.user_id = m.user_id AND ua.address = lower(m.from_address)
          )
      ))
  )
