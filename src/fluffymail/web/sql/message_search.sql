-- The best matches for `query` (message_query.sql's tsquery) among the user's newest `cap`
-- messages that match it and the filters (as in message_list.sql), ranked by ts_rank_cd of
-- `ranking` (cover density: the words close together, subject over people over body by the
-- vector's weights), the higher id first on a tie; keyset-paged after (`after_rank`,
-- `after_id`). Ranking every match of a common word over a million messages would read them
-- all: the cap bounds the work (BENCHMARKS.md, "Mail search"). One more than `cap` is read so
-- that `matched` (on every row) counts the matches up to cap + 1 without a second scan. The
-- matches come from the narrow crm.message_search (0031_message_search_table.sql); only the
-- page's rows are read from crm.messages. Phrases pre-filter on their adjacent word pairs as in
-- message_list.sql.
WITH hits AS (
    SELECT s.message_id AS id, s.date, s.vector
    FROM crm.message_search s
    WHERE s.user_id = %(user_id)s
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
    ORDER BY CASE WHEN %(by_key)s::boolean THEN s.date + interval '0 s'
                  ELSE s.date END DESC NULLS LAST, s.message_id DESC  -- as in message_list.sql
    LIMIT %(cap)s + 1
), ranked AS (
    SELECT h.id, h.date,
           coalesce(ts_rank_cd(h.vector, %(ranking)s::tsquery), 0) AS rank  -- NULL: all alike
    FROM (SELECT * FROM hits ORDER BY date DESC NULLS LAST, id DESC LIMIT %(cap)s) h
), page AS (
    SELECT r.id, r.rank
    FROM ranked r
    WHERE %(after_id)s::bigint IS NULL
       OR (r.rank, r.id) < (%(after_rank)s::real, %(after_id)s::bigint)
    ORDER BY r.rank DESC, r.id DESC
    LIMIT %(limit)s
)
SELECT m.id, m.date, m.subject, m.snippet, m.from_address, m.from_name, m.thread_id,
       m.has_attachment, m.recipients, p.rank, (SELECT count(*) FROM hits) AS matched
FROM page p
JOIN crm.messages m ON m.id = p.id
ORDER BY p.rank DESC, p.id DESC
