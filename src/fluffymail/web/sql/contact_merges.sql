-- Merges a contact took part in (either side), newest first, with the other contact's name.
SELECT m.id, m.into_contact_id, m.from_contact_id, m.addresses, m.reason, m.actor, m.merged_on,
       m.unmerged_on, m.unmerged_by,
       coalesce(nullif(o.name, ''), o.primary_address) AS other_label
FROM crm.contact_merges m
JOIN crm.contacts o ON o.id = CASE WHEN m.into_contact_id = %(id)s THEN m.from_contact_id
                                   ELSE m.into_contact_id END
WHERE m.user_id = %(user_id)s AND %(id)s IN (m.into_contact_id, m.from_contact_id)
ORDER BY m.merged_on DESC, m.id DESC
LIMIT 50
