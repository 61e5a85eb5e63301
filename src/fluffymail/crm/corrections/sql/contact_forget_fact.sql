-- Drop the user's earlier value of a field (their new one replaces it).
DELETE FROM crm.contact_facts
WHERE contact_id = %(contact_id)s AND field = %(field)s AND source = 'you'
