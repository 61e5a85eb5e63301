-- Who introduced the user to a contact, with the introducer's contact when known; `is_self`
-- when the introducer is the user (one of their addresses): they met directly.
SELECT i.introducer, i.introducer_contact_id, ic.name AS introducer_name, i.message_id,
       i.introduced_on,
       (i.introducer = u.email OR EXISTS (
            SELECT 1 FROM crm.user_aliases a
             WHERE a.user_id = i.user_id AND a.address = i.introducer)) AS is_self
FROM crm.introductions i
JOIN crm.users u ON u.id = i.user_id
LEFT JOIN crm.contacts ic ON ic.id = i.introducer_contact_id AND ic.user_id = i.user_id
WHERE i.user_id = %(user_id)s AND i.contact_id = %(id)s
