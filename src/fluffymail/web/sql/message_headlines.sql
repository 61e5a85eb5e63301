-- Highlighted excerpts of the body for one page of search results only (ts_headline parses the
-- text again, the dearest part of a search): the words of `marks` (message_query.sql) between
-- `options`' StartSel and StopSel marks, in the part of the body the search vector covers; the
-- whole subject, its words marked likewise.
SELECT m.id,
       ts_headline('simple', left(m.body_text, 2000), %(marks)s::tsquery,
                   %(options)s) AS headline,
       ts_headline('simple', m.subject, %(marks)s::tsquery,
                   %(subject_options)s) AS subject
FROM crm.messages m
WHERE m.user_id = %(user_id)s AND m.id = ANY(%(ids)s::bigint[])
