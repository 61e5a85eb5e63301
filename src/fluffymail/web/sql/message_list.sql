-- One page of the user's messages, newest first, undated mail last (messages_user_list_idx
-- order), keyset-paged: dated mail after (`after_date`, `after_id`), then, with `undated`, the
-- undated mail below `after_id`. Optional filters: words (`q`, websearch syntax, over the
-- search vector of 0025_message_search.sql), a date range, has an attachment, a folder name,
-- and `ids`, the messages that pass the contact and company filters (message_filter_ids.sql).
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
  AND (%(ids)s::bigint[] IS NULL OR m.id = ANY(%(ids)s::bigint[]))
-- A phrase ("a b") orders by an expression the index cannot give, so that PostgreSQL reads the
-- GIN index's candidates rather than walking the date index: it estimates a phrase like its
-- words' AND and would otherwise walk far looking for matches that are rarer than that.
ORDER BY CASE WHEN %(phrase)s::boolean THEN m.date + interval '0 s' ELSE m.date END DESC NULLS LAST,
         m.id DESC
LIMIT %(limit)s
