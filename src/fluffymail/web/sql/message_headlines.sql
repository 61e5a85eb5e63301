-- Highlighted excerpts of the body for one page of search results only (ts_headline parses the
-- text again, the dearest part of a search): the words of `q` between `options`' StartSel and
-- StopSel marks, in the part of the body the search vector covers; the whole subject, its
-- words marked likewise.
SELECT m.id,
       ts_headline('simple', left(m.body_text, 2000), websearch_to_tsquery('simple', %(q)s::text),
                   %(options)s) AS headline,
       ts_headline('simple', m.subject, websearch_to_tsquery('simple', %(q)s::text),
                   %(subject_options)s) AS subject
FROM crm.messages m
WHERE m.user_id = %(user_id)s AND m.id = ANY(%(ids)s::bigint[])
