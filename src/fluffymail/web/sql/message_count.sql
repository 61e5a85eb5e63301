-- How many of the user's messages match the filters of message_list.sql, counted up to `cap`
-- (a common word matches hundreds of thousands: the page says "500+").
SELECT count(*) AS total
FROM (
    SELECT
    FROM crm.messages m
    WHERE m.user_id = %(user_id)s
      AND (%(q)s::text IS NULL OR m.search @@ websearch_to_tsquery('simple', %(q)s::text))
      AND (%(since)s::timestamptz IS NULL OR m.date >= %(since)s::timestamptz)
      AND (%(until)s::timestamptz IS NULL OR m.date < %(until)s::timestamptz)
      AND (%(attachment)s::boolean IS NULL OR m.has_attachment = %(attachment)s::boolean)
      AND (%(folder)s::text IS NULL OR EXISTS (
          SELECT FROM crm.message_folders mf JOIN crm.folders f ON f.id = mf.folder_id
          WHERE mf.message_id = m.id AND f.name = %(folder)s::text))
      AND (%(from_contact)s::bigint IS NULL OR m.id IN (
          SELECT l.message_id
          FROM crm.contact_addresses a
          JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
          WHERE a.user_id = %(user_id)s AND a.contact_id = %(from_contact)s::bigint
            AND l.role = 'received_from'))
      AND (%(to_contact)s::bigint IS NULL OR m.id IN (
          SELECT l.message_id
          FROM crm.contact_addresses a
          JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
          WHERE a.user_id = %(user_id)s AND a.contact_id = %(to_contact)s::bigint
            AND l.role IN ('sent_to', 'cc')))
      AND (%(company)s::bigint IS NULL OR m.id IN (
          SELECT l.message_id
          FROM crm.contacts c
          JOIN crm.contact_addresses a ON a.user_id = c.user_id AND a.contact_id = c.id
          JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
          WHERE c.user_id = %(user_id)s AND c.company_id = %(company)s::bigint))
    LIMIT %(cap)s
) found
