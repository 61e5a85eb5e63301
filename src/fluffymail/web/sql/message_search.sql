-- The best matches for `q` among the user's newest `cap` messages that match it and the
-- filters (as in message_list.sql), ranked by ts_rank_cd (cover density: the words close
-- together, subject over people over body by the vector's weights), the higher id first on a
-- tie; keyset-paged after (`after_rank`, `after_id`). Ranking every match of a common word over
-- a million messages would read them all: the cap bounds the work (BENCHMARKS.md, "Mail
-- search"). One more than `cap` is read so that `matched` (on every row) counts the matches up
-- to cap + 1 without a second scan.
WITH hits AS (
    SELECT m.id, m.date, m.search
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
                 DESC NULLS LAST, m.id DESC  -- a phrase: as in message_list.sql
    LIMIT %(cap)s + 1
), ranked AS (
    SELECT h.id, h.date,
           ts_rank_cd(h.search, websearch_to_tsquery('simple', %(q)s::text)) AS rank
    FROM (SELECT * FROM hits ORDER BY date DESC NULLS LAST, id DESC LIMIT %(cap)s) h
)
SELECT m.id, m.date, m.subject, m.snippet, m.from_address, m.from_name, m.thread_id,
       m.has_attachment, m.recipients, r.rank, (SELECT count(*) FROM hits) AS matched
FROM ranked r
JOIN crm.messages m ON m.id = r.id
WHERE %(after_id)s::bigint IS NULL
   OR (r.rank, r.id) < (%(after_rank)s::real, %(after_id)s::bigint)
ORDER BY r.rank DESC, r.id DESC
LIMIT %(limit)s
