-- One of the user's companies with a roll-up of its visible people: the people the contacts
-- list shows under ?company= (groups live on /groups), and their figures as the people table
-- shows them (crm.contact_figures, joined by key; a person whose figures are updating shows
-- none, so adds none). Not the cached link dates: those count Cc'd and bulk mail too.
SELECT co.id, co.name, co.domain, co.website, co.name_source, co.created_on,
       count(c.id) AS people,
       count(c.id) FILTER (WHERE c.is_internal) AS internal_people,
       max(f.strength) FILTER (WHERE NOT f.updating) AS best_score,
       coalesce(sum(f.sent) FILTER (WHERE NOT f.updating), 0) AS sent,
       coalesce(sum(f.received) FILTER (WHERE NOT f.updating), 0) AS received,
       min(f.first_at) FILTER (WHERE NOT f.updating) AS first_interaction_on,
       max(f.last_at) FILTER (WHERE NOT f.updating) AS last_interaction_on,
       count(c.id) FILTER (WHERE r.going_cold) AS going_cold
FROM crm.companies co
LEFT JOIN crm.contacts c ON c.company_id = co.id AND c.user_id = co.user_id AND c.created
     AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL AND c.kind = 'person'
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
LEFT JOIN crm.contact_figures f ON f.user_id = c.user_id AND f.contact_id = c.id
WHERE co.id = %(id)s AND co.user_id = %(user_id)s
GROUP BY co.id
