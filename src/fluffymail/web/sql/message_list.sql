-- One page of the user's messages, newest first, undated mail last (messages_user_list_idx
-- order), keyset-paged: dated mail after (`after_date`, `after_id`), then, with `undated`, the
-- undated mail below `after_id`. Optional filters: words (`q`, websearch syntax, over the
-- search vector of 0025_message_search.sql), a date range, has an attachment, a folder name,
-- from or to a contact (their interaction links, as on the contact's timeline), any contact of
-- a company. Another user's contact or company filters to nothing.
SELECT m.id, m.date, m.subject, m.snippet, m.from_address, m.from_name, m.thread_id,
       m.has_attachment, m.recipients
FROM crm.messages m
WHERE m.user_id = %(user_id)s
  AND CASE WHEN %(undated)s::boolean THEN m.date IS NULL ELSE m.date IS NOT NULL END
  AND (%(after_id)s::bigint IS NULL OR %(undated)s::boolean
       OR (m.date, m.id) < (%(after_date)s::timestamptz, %(after_id)s::bigint))
  AND (%(after_id)s::bigint IS NULL OR NOT %(undated)s::boolean OR m.id < %(after_id)s::bigint)
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
ORDER BY m.date DESC NULLS LAST, m.id DESC
LIMIT %(limit)s
