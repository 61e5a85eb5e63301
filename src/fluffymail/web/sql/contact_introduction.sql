-- Who introduced the user to a contact, with the introducer's contact when known.
SELECT i.introducer, i.introducer_contact_id, ic.name AS introducer_name, i.message_id,
       i.introduced_on
FROM crm.introductions i
LEFT JOIN crm.contacts ic ON ic.id = i.introducer_contact_id AND ic.user_id = i.user_id
WHERE i.user_id = %(user_id)s AND i.contact_id = %(id)s
