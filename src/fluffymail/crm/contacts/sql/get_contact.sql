SELECT c.id, c.user_id, c.primary_address, c.name, c.first_name, c.last_name, c.name_quality,
       c.company_id, c.company_source, c.is_internal, c.suppressed_reason, c.created,
       c.merged_into_id,
       c.sent_to_count, c.received_from_count, c.cc_count,
       c.first_interaction_on, c.last_interaction_on,
       coalesce((SELECT array_agg(a.address ORDER BY a.address) FROM crm.contact_addresses a
                 WHERE a.contact_id = c.id), '{}') AS addresses,
       co.domain AS company_domain, co.name AS company_name, co.name_source AS company_name_source
FROM crm.contacts c
LEFT JOIN crm.companies co ON co.id = c.company_id
WHERE c.id = %(id)s
