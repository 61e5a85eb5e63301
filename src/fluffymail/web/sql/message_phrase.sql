-- How PostgreSQL reads `q` (websearch syntax, the 'simple' configuration): the tsquery as text,
-- from which the service takes the adjacent word pairs of its phrases (the `pairs` pre-filter
-- of 0031_message_search_table.sql).
SELECT websearch_to_tsquery('simple', %(q)s::text)::text AS query
