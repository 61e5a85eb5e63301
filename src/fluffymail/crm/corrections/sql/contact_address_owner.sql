-- Which of the user's contacts has this address, if any.
SELECT contact_id FROM crm.contact_addresses WHERE user_id = %(user_id)s AND address = %(address)s
