-- The live person each of these contacts is (a contact merged since: the one it joined), with
-- its name as stored and its quality (identity.co_named, identity.namesake_pairs keep the full
-- names). By key both times, whatever the statistics say of a table an import is filling: no
-- filter on the name here, which would offer the planner the name-key indexes' predicate.
WITH asked AS MATERIALIZED (
    SELECT c.id, coalesce(c.merged_into_id, c.id) AS live_id
    FROM crm.contacts c
    WHERE c.id = ANY(%(ids)s::bigint[])
)
SELECT a.id, t.id, t.name, t.first_name, t.last_name, t.name_quality
FROM asked a
JOIN crm.contacts t ON t.id = a.live_id
WHERE t.id = ANY(ARRAY(SELECT live_id FROM asked))
  AND t.merged_into_id IS NULL AND t.suppressed_reason IS NULL AND t.kind = 'person'
