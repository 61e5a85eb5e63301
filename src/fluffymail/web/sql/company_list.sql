-- One page of a user's companies that have visible people (those the contacts list shows under
-- ?company=; groups live on /groups), strongest relationship first; `total` counts every match.
-- `search` (or NULL) is found in the name or the domain ignoring case and accents (crm.fold:
-- "nestle" finds Nestlé), through the trigram indexes of the folded name (0011, 0050) and
-- domain (0052); strpos decides, and a search shorter than three characters has no trigram,
-- so it is a plain scan of the user's companies, as contact_list_search.sql. The last
-- interaction is the latest of the people's figures (crm.relationships.last_at, the column
-- crm.contact_figures reads; not the cached link date, which counts Cc'd and bulk mail too),
-- as company_get.sql.
SELECT co.id, co.name, co.domain, count(c.id) AS people,
       max(r.score) AS best_score, max(r.last_at) AS last_interaction_on,
       count(*) OVER () AS total
FROM crm.companies co
JOIN crm.contacts c ON c.company_id = co.id AND c.user_id = co.user_id AND c.created
     AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL AND c.kind = 'person'
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
WHERE co.user_id = %(user_id)s
  AND (%(search)s::text IS NULL
       OR (length(crm.fold(%(search)s::text)) < 3
           OR crm.trigrams(co.name) @> crm.trigrams(%(search)s::text))
          AND strpos(crm.fold(co.name), crm.fold(%(search)s::text)) > 0
       OR (length(crm.fold(%(search)s::text)) < 3
           OR crm.trigrams(co.domain) @> crm.trigrams(%(search)s::text))
          AND strpos(crm.fold(co.domain), crm.fold(%(search)s::text)) > 0)
  AND (%(tag_id)s::bigint IS NULL OR EXISTS (
      SELECT FROM crm.company_tags ct WHERE ct.company_id = co.id AND ct.tag_id = %(tag_id)s::bigint))
GROUP BY co.id
ORDER BY max(coalesce(r.score, -1)) DESC, max(r.last_at) DESC NULLS LAST, co.id
LIMIT %(limit)s OFFSET %(offset)s
