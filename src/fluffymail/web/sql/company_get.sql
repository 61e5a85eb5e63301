-- One of the user's companies with a roll-up of its visible people.
SELECT co.id, co.name, co.domain, co.website, co.name_source, co.created_on,
       count(c.id) AS people,
       count(c.id) FILTER (WHERE c.is_internal) AS internal_people,
       max(r.score) AS best_score,
       coalesce(sum(r.sent), 0) AS sent,          -- crm.contact_figures' sent, summed
       coalesce(sum(r.received), 0) AS received,
       min(c.first_interaction_on) AS first_interaction_on,
       max(c.last_interaction_on) AS last_interaction_on,
       count(c.id) FILTER (WHERE r.going_cold) AS going_cold
FROM crm.companies co
LEFT JOIN crm.contacts c ON c.company_id = co.id AND c.user_id = co.user_id AND c.created
     AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
WHERE co.id = %(id)s AND co.user_id = %(user_id)s
GROUP BY co.id
