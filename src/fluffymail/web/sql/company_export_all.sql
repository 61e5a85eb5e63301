-- Every live company of the user (those without people too), by name, with its tags, notes
-- and visible people; `search` (ignoring case and accents) and `tag_id` filter as the
-- companies list does (company_list.sql). Read with a server-side cursor.
SELECT co.id, co.name, co.domain, co.website,
       (SELECT count(*) FROM crm.contacts c
        WHERE c.company_id = co.id AND c.user_id = co.user_id AND c.created
          AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
          AND c.kind = 'person') AS people,
       (SELECT string_agg(t.name, '; ' ORDER BY lower(t.name))
        FROM crm.company_tags ct JOIN crm.tags t ON t.id = ct.tag_id
        WHERE ct.company_id = co.id) AS tags,
       (SELECT string_agg(n.body, E'\n\n---\n\n' ORDER BY n.created_on, n.id)
        FROM crm.notes n WHERE n.company_id = co.id) AS notes
FROM crm.companies co
WHERE co.user_id = %(user_id)s AND co.merged_into_id IS NULL
  AND (%(search)s::text IS NULL
       OR (length(crm.fold(%(search)s::text)) < 3
           OR crm.trigrams(co.name) @> crm.trigrams(%(search)s::text))
          AND strpos(crm.fold(co.name), crm.fold(%(search)s::text)) > 0
       OR (length(crm.fold(%(search)s::text)) < 3
           OR crm.trigrams(co.domain) @> crm.trigrams(%(search)s::text))
          AND strpos(crm.fold(co.domain), crm.fold(%(search)s::text)) > 0)
  AND (%(tag_id)s::bigint IS NULL OR EXISTS (
      SELECT FROM crm.company_tags ct WHERE ct.company_id = co.id AND ct.tag_id = %(tag_id)s::bigint))
ORDER BY lower(co.name), co.id
