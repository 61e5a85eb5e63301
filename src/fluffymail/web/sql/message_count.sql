-- How many of the user's messages match the filters of message_list.sql, counted up to `cap`
-- (a common word matches hundreds of thousands: the page says "200+").
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
      AND (%(ids)s::bigint[] IS NULL OR m.id = ANY(%(ids)s::bigint[]))
    ORDER BY CASE WHEN %(phrase)s::boolean THEN m.date + interval '0 s' ELSE m.date END
                 DESC NULLS LAST, m.id DESC  -- as in message_list.sql: stops early or uses GIN
    LIMIT %(cap)s
) found
