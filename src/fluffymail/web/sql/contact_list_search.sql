-- One page of the user's visible contacts in whose name, addresses or company name every word
-- of the search is found (ignoring case and accents: crm.fold, so "jose" finds José and
-- "josé" Jose; in any order), filtered, in the order of contact_list_<sort>.sql, with `total`
-- counting every match. The trigram indexes of 0011_contacts_list.sql (of the folded text since
-- 0050) find the candidates for the longest word (`probe`), strpos decides; a probe shorter
-- than three characters has no trigram, so it is a plain scan. The matches are sorted in
-- memory: a search finds few contacts.
WITH found AS (
    SELECT c.id
    FROM crm.contacts c
    WHERE c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
      AND c.suppressed_reason IS NULL
      AND (length(crm.fold(%(probe)s::text)) < 3
           OR crm.trigrams(c.name) @> crm.trigrams(%(probe)s::text))
      AND strpos(crm.fold(c.name), crm.fold(%(probe)s::text)) > 0
    UNION
    SELECT a.contact_id
    FROM crm.contact_addresses a
    WHERE a.user_id = %(user_id)s
      AND (length(crm.fold(%(probe)s::text)) < 3
           OR crm.trigrams(a.address) @> crm.trigrams(%(probe)s::text))
      AND strpos(crm.fold(a.address), crm.fold(%(probe)s::text)) > 0
    UNION
    SELECT c.id
    FROM crm.companies co
    JOIN crm.contacts c ON c.company_id = co.id
    WHERE co.user_id = %(user_id)s
      AND (length(crm.fold(%(probe)s::text)) < 3
           OR crm.trigrams(co.name) @> crm.trigrams(%(probe)s::text))
      AND strpos(crm.fold(co.name), crm.fold(%(probe)s::text)) > 0
)
SELECT c.id, c.name, c.primary_address, c.company_id, co.name AS company_name,
       co.domain AS company_domain, c.is_internal,
       c.first_interaction_on, c.last_interaction_on, c.sent_to_count, c.received_from_count,
       (SELECT to_jsonb(f) FROM crm.contact_figures f WHERE f.contact_id = c.id) AS figures,
       r.score, coalesce(r.level, 'no connection') AS level, r.trend,
       coalesce(r.going_cold, false) AS going_cold,
       count(*) OVER () AS total
FROM found f
JOIN crm.contacts c ON c.id = f.id
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
LEFT JOIN crm.companies co ON co.id = c.company_id
WHERE c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
  AND c.suppressed_reason IS NULL
  AND c.kind = 'person'  -- groups live on /groups (issue 12)
  AND (%(level)s::text IS NULL OR coalesce(r.level, 'no connection') = %(level)s::text)
  AND (%(going_cold)s::boolean IS NULL OR coalesce(r.going_cold, false) = %(going_cold)s::boolean)
  AND (%(company_id)s::bigint IS NULL OR c.company_id = %(company_id)s::bigint)
  AND (%(tag_id)s::bigint IS NULL OR EXISTS (
      SELECT FROM crm.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = %(tag_id)s::bigint))
  AND (%(list_id)s::bigint IS NULL OR EXISTS (
      SELECT FROM crm.contact_list_members m
      WHERE m.list_id = %(list_id)s::bigint AND m.contact_id = c.id))
  AND (%(internal)s::boolean IS NULL OR c.is_internal = %(internal)s::boolean)
  AND NOT EXISTS (  -- every other word (`found` found the probe), in any order, in the name,
      -- the company's name or an address
      SELECT FROM (SELECT crm.fold(word) AS w FROM unnest(%(words)s::text[]) word
                   WHERE word <> %(probe)s::text) words
      WHERE strpos(crm.fold(c.name), w) = 0 AND strpos(crm.fold(coalesce(co.name, '')), w) = 0
        AND NOT EXISTS (SELECT FROM crm.contact_addresses a
                        WHERE a.contact_id = c.id AND strpos(crm.fold(a.address), w) > 0))
ORDER BY
    CASE WHEN %(sort)s::text = 'strength' THEN r.score IS NULL END,
    CASE WHEN %(sort)s::text = 'strength' THEN r.score END DESC,
    -- last interaction: the figures' last contact, as contact_list_recent.sql (the cached
    -- link date only breaks the tie among the "never" rows, and the unscored in strength order)
    CASE WHEN %(sort)s::text = 'last_interaction' THEN r.last_at END DESC NULLS LAST,
    CASE WHEN %(sort)s::text = 'strength' AND r.score IS NULL
         OR %(sort)s::text = 'last_interaction' AND r.last_at IS NULL
         THEN c.last_interaction_on END DESC NULLS LAST,
    CASE WHEN %(sort)s::text = 'tag' THEN (
        SELECT min(lower(t.name)) FROM crm.contact_tags ct JOIN crm.tags t ON t.id = ct.tag_id
        WHERE ct.contact_id = c.id) END NULLS LAST,
    CASE WHEN %(sort)s::text IN ('name', 'tag')
         THEN lower(coalesce(nullif(c.name, ''), c.primary_address)) END,
    c.id
LIMIT %(limit)s OFFSET %(offset)s
