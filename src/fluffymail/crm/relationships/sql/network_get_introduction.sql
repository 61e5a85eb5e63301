-- The stored introduction of one of the user's contacts (merged contacts resolved).
SELECT i.contact_id,
       i.introducer,
       coalesce(nullif(k.name, ''), CASE WHEN s.is_self THEN u.name END, '') AS introducer_name,
       i.introducer_contact_id,
       s.is_self,
       i.message_id,
       i.introduced_on
FROM crm.introductions i
JOIN crm.users u ON u.id = i.user_id
LEFT JOIN crm.contacts k ON k.id = i.introducer_contact_id
CROSS JOIN LATERAL (
    SELECT i.introducer = u.email
           OR EXISTS (SELECT 1 FROM crm.user_aliases a
                      WHERE a.user_id = i.user_id AND a.address = i.introducer) AS is_self
) s
WHERE i.user_id = %(user_id)s
  AND i.contact_id = (SELECT coalesce(c.merged_into_id, c.id) FROM crm.contacts c
                      WHERE c.id = %(contact_id)s AND c.user_id = %(user_id)s)
