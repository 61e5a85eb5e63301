-- Each row's contact, when the user has one with its address (any of the contact's
-- addresses): the import updates it.
UPDATE crm.import_rows r
SET contact_id = a.contact_id, outcome = 'updated'
FROM crm.contact_addresses a
WHERE r.run_id = %(run_id)s AND a.user_id = %(user_id)s AND a.address = r.address
