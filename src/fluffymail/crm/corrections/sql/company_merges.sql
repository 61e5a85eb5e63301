-- Merges a company took part in (either side), newest first, with the other company's name.
SELECT m.id, m.into_company_id, m.from_company_id, m.contact_ids, m.actor, m.merged_on,
       m.unmerged_on, o.name AS other_name, o.domain AS other_domain
FROM crm.company_merges m
JOIN crm.companies o ON o.id = CASE WHEN m.into_company_id = %(id)s THEN m.from_company_id
                                    ELSE m.into_company_id END
WHERE m.user_id = %(user_id)s AND %(id)s IN (m.into_company_id, m.from_company_id)
ORDER BY m.merged_on DESC, m.id DESC
LIMIT 50
