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
      AND (%(folder)s::text IS NULL OR EXISTS (
          SELECT FROM crm.message_folders mf JOIN crm.folders f ON f.id = mf.folder_id
          WHERE mf.message_id = s.message_id AND f.name = %(folder)s::text))
      AND (%(ids)s::bigint[] IS NULL OR s.message_id = ANY(%(ids)s::bigint[]))
    -- as in message_list.sql: stops early or uses GIN
    ORDER BY CASE WHEN %(phrase)s::boolean OR %(rare)s::boolean THEN s.date + interval '0 s'
                  ELSE s.date END DESC NULLS LAST, s.message_id DESC
    LIMIT %(cap)s
) found
