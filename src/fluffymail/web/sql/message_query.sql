-- The text-search query a mail search runs, as text (`query`): `q` as websearch_to_tsquery reads
-- it (the 'simple' configuration of the vector, 0031_message_search_table.sql), each address word
-- of it (address_words.py: `words` as typed, `fragments`, `patterns`) replaced by itself OR any
-- of the user's known addresses that hold it, each as the vector reads it. PostgreSQL's parser
-- keeps an address whole ('jeff.dasovich@enron.com' is one email token) and a domain too
-- ('pnm.com' one host token), so 'pnm.com' alone found none of the mail from or to jdoe@pnm.com;
-- its addresses do, through the vector's GIN index.
--
-- Known addresses: everyone extraction met in the user's mail (crm.contact_addresses, contacts
-- or not) and the user's own; at most `cap` per word, those in the most mail first.
-- `uses`: for each word, about how many messages hold the addresses put in (their people's
-- links; the user's own count as in most mail), NULL for none: message_search.py's RARE_USES.
-- `ranking`: the query without the address words that found addresses, NULL if nothing is left,
-- for ts_rank_cd: its cost grows with the square of the query's size (100 addresses: 0.15 to
-- 0.4 ms a message, 30 to 80 ms for the 200 a search ranks), and an address says who, not how
-- well a message matches: the other words rank. `marks`: what ts_headline marks (its cost grows
-- with the query's size too: 100 addresses took 40-90 ms for a page of 25 Enron messages), the
-- ranking words, else `q` as typed. No address word: all three are the query of `q`.
WITH RECURSIVE word AS (
    SELECT w.n, websearch_to_tsquery('simple', w.word) AS target, w.fragment, w.pattern
    FROM unnest(%(words)s::text[], %(fragments)s::text[], %(patterns)s::text[])
         WITH ORDINALITY AS w(word, fragment, pattern, n)
), expansion AS (
    SELECT w.n, w.target, x.addresses, CASE WHEN x.addresses IS NOT NULL THEN x.uses END AS uses
    FROM word w
    CROSS JOIN LATERAL (
        SELECT sum(k.uses)::bigint AS uses,
               ('(' || string_agg(k.query::text, ' | ')
                           FILTER (WHERE numnode(k.query) > 0 AND k.query <> w.target)
                    || ')')::tsquery AS addresses
        FROM (
            -- the vector's own reading of each address ('a+b@x.com' is 'a' <-> 'b@x.com')
            SELECT m.uses, phraseto_tsquery('simple', m.address) AS query
            FROM (
                -- how many messages it is in, about (its person's links)
                SELECT a.address, coalesce(c.sent_to_count + c.received_from_count
                                           + c.cc_count, 0)::bigint AS uses
                FROM crm.contact_addresses a
                LEFT JOIN crm.contacts c ON c.id = a.contact_id
                WHERE a.user_id = %(user_id)s
                  -- the trigram index of the contact search (0011): 2 ms for a company's
                  -- domain among 10,000 addresses; it checks each candidate again (10 us),
                  -- so a fragment in every address (".com") takes 70 ms, a scan 40
                  AND crm.trigrams(a.address) @> crm.trigrams(w.fragment)
                  AND lower(a.address) ~ w.pattern
                UNION ALL
                SELECT lower(own.address), 1000000000  -- the user's own: in most mail
                FROM (SELECT u.email AS address FROM crm.users u WHERE u.id = %(user_id)s
                      UNION ALL
                      SELECT ua.address FROM crm.user_aliases ua WHERE ua.user_id = %(user_id)s
                      UNION ALL
                      SELECT ms.address FROM crm.mailbox_senders ms
                      WHERE ms.user_id = %(user_id)s) own
                WHERE lower(own.address) ~ w.pattern
                ORDER BY uses DESC, address
                LIMIT %(cap)s
            ) m
        ) k
    ) x
), step (n, query, ranking) AS (
    SELECT 0::bigint, websearch_to_tsquery('simple', %(q)s::text),
           websearch_to_tsquery('simple', %(q)s::text)
    UNION ALL
    SELECT s.n + 1,
           CASE WHEN e.addresses IS NULL OR numnode(e.target) = 0 THEN s.query
                ELSE ts_rewrite(s.query, e.target, e.target || e.addresses) END,
           -- an empty substitute takes the word out; made from a column, so that it is parsed
           -- (with the notice "text-search query doesn't contain lexemes") only when it is used
           CASE WHEN e.addresses IS NULL OR numnode(e.target) = 0 THEN s.ranking
                ELSE ts_rewrite(s.ranking, e.target, left(e.target::text, 0)::tsquery) END
    FROM step s
    JOIN expansion e ON e.n = s.n + 1
)
SELECT query::text AS query, CASE WHEN numnode(ranking) > 0 THEN ranking::text END AS ranking,
       CASE WHEN numnode(ranking) > 0 THEN ranking
            ELSE websearch_to_tsquery('simple', %(q)s::text) END::text AS marks,
       ARRAY(SELECT e.uses FROM expansion e ORDER BY e.n) AS uses
FROM step
ORDER BY n DESC
LIMIT 1
