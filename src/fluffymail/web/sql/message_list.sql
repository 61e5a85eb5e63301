-- One page of the user's messages, newest first, undated mail last (message_search_list_idx
-- order), keyset-paged: dated mail after (`after_date`, `after_id`), then, with `undated`, the
-- undated mail below `after_id`. Optional filters: words (`query`, message_query.sql's tsquery,
-- over the search vector of 0031_message_search_table.sql), a date range, has an attachment, a
-- folder name with much mail, `ids`, the messages that pass the contact, company and folder
-- filters with less (message_filter_ids.sql, message_folder_ids.sql), and the contact and
-- company filters with much (`*_check`). The filtering and the order read the narrow
-- crm.message_search; only the page's rows are read from crm.messages. A phrase also gives the
-- adjacent word pairs (`pair_left`, `pair_right`, read from that tsquery) that every match
-- holds.
WITH page AS (
    SELECT s.message_id, s.date
    FROM crm.message_search s
    WHERE s.user_id = %(user_id)s
      AND CASE WHEN %(undated)s::boolean THEN s.date IS NULL ELSE s.date IS NOT NULL END
      AND (%(after_id)s::bigint IS NULL OR %(undated)s::boolean
           OR (s.date, s.message_id) < (%(after_date)s::timestamptz, %(after_id)s::bigint))
      AND (%(after_id)s::bigint IS NULL OR NOT %(undated)s::boolean
           OR s.message_id < %(after_id)s::bigint)
      AND (%(query)s::tsquery IS NULL OR s.vector @@ CASE
              WHEN %(rare)s::boolean THEN (SELECT %(query)s::tsquery)  -- see the ORDER BY
              ELSE %(query)s::tsquery END)
      AND (%(pair_left)s::text[] IS NULL OR s.pairs @> ARRAY(
          SELECT crm.word_pair(p.first, p.second)
          FROM unnest(%(pair_left)s::text[], %(pair_right)s::text[]) AS p(first, second)))
      AND (%(since)s::timestamptz IS NULL OR s.date >= %(since)s::timestamptz)
      AND (%(until)s::timestamptz IS NULL OR s.date < %(until)s::timestamptz)
      AND (%(attachment)s::boolean IS NULL OR s.has_attachment = %(attachment)s::boolean)
      -- a folder with much mail, probed per message (never hashed whole: hashing the 1M rows
      -- of a 1M-message folder took 400 ms, issue 19); a smaller one comes as `ids`
      -- (message_search.py, DENSE_USES)
      AND (%(folder)s::text IS NULL OR (
          SELECT true FROM crm.message_folders mf JOIN crm.folders f ON f.id = mf.folder_id
          WHERE mf.message_id = s.message_id AND f.name = %(folder)s::text LIMIT 1))
      AND (%(ids)s::bigint[] IS NULL OR s.message_id = ANY(%(ids)s::bigint[]))
      -- the common contact and company filters, checked per message (message_search.py,
      -- DENSE_USES); each a sub-select with LIMIT, which the date order walks past
      AND (%(from_check)s::bigint IS NULL OR (
          SELECT true FROM crm.contact_links l
          JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
          WHERE l.message_id = s.message_id AND l.role = 'received_from'
            AND a.contact_id = %(from_check)s::bigint LIMIT 1))
      AND (%(to_check)s::bigint IS NULL OR (
          SELECT true FROM crm.contact_links l
          JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
          WHERE l.message_id = s.message_id AND l.role IN ('sent_to', 'cc')
            AND a.contact_id = %(to_check)s::bigint LIMIT 1))
      AND (%(company_check)s::bigint IS NULL OR (
          SELECT true FROM crm.contact_links l
          JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
          JOIN crm.contacts c ON c.id = a.contact_id
          WHERE l.message_id = s.message_id AND c.company_id = %(company_check)s::bigint
          LIMIT 1))
    -- A phrase ("a b") orders by an expression the index cannot give, so that PostgreSQL reads
    -- the GIN index's candidates rather than walking the date index: it estimates a phrase like
    -- its words' AND and would otherwise walk far looking for matches that are rarer than that.
    -- So do an address word's addresses when they are rare (`rare`, message_search.py's
    -- RARE_USES): PostgreSQL takes each for a word of unknown frequency, far more common than an
    -- address, and estimates 200 of them in most messages (it then reads every row); the query
    -- passed through a sub-select hides them from its estimate, which is then the default
    -- 0.5 per cent: it reads the GIN index. So do several words in few messages
    -- (message_search.py, SPARSE_SHARE) and the ids of a rare contact or company filter: read
    -- by key, a few thousand at most; in date order PostgreSQL walked 39,000 rows to find the
    -- newest 200 of 5,000 ids, and 50,000 for two words in 2 per cent of the mail (issue 19).
    -- `by_key` is any of these.
    ORDER BY CASE WHEN %(by_key)s::boolean THEN s.date + interval '0 s'
                  ELSE s.date END DESC NULLS LAST,
             s.message_id DESC
    LIMIT %(limit)s
)
SELECT m.id, m.date, m.subject, m.snippet, m.from_address, m.from_name, m.thread_id,
       m.has_attachment, m.recipients
FROM page p
JOIN crm.messages m ON m.id = p.message_id
ORDER BY p.date DESC NULLS LAST, p.message_id DESC
