-- How many of the user's messages match the filters of message_list.sql, counted up to `cap`
-- (a common word matches hundreds of thousands: the page says "200+"), over the narrow
-- crm.message_search alone (phrases pre-filtered on their word pairs, as in message_list.sql).
SELECT count(*) AS total
FROM (
    SELECT
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
    -- as in message_list.sql: stops early or uses GIN
    ORDER BY CASE WHEN %(by_key)s::boolean THEN s.date + interval '0 s'
                  ELSE s.date END DESC NULLS LAST, s.message_id DESC
    LIMIT %(cap)s
) found
