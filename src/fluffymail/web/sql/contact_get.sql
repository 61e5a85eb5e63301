-- One of the user's contacts (merged or not) with its company and relationship.
SELECT c.id, c.name, c.first_name, c.last_name, c.primary_address, c.is_internal,
       c.suppressed_reason, c.name_source, c.merged_into_id, c.created, c.sent_to_count,
       c.received_from_count, c.cc_count, c.first_interaction_on, c.last_interaction_on,
       c.created_on, co.id AS company_id, co.name AS company_name, co.domain AS company_domain,
       r.score, r.level, r.trend, r.going_cold, r.sent, r.received, r.two_way_threads,
       r.first_at, r.last_at, r.evidence, r.stats, r.computed_on,
       (SELECT to_jsonb(f) FROM crm.contact_figures f WHERE f.contact_id = c.id) AS figures
FROM crm.contacts c
LEFT JOIN crm.companies co ON co.id = c.company_id
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
WHERE c.id = %(id)s AND c.user_id = %(user_id)s
