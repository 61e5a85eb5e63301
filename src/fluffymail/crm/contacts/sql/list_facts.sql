SELECT id, contact_id, field, value, kind, source, source_message_id, confidence, observed_on,
       is_current
FROM crm.contact_facts WHERE contact_id = %(contact_id)s
ORDER BY field, is_current DESC, observed_on DESC, id
