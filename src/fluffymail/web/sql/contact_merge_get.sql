-- One of the user's merges.
SELECT id, into_contact_id, from_contact_id, addresses, unmerged_on
FROM crm.contact_merges
WHERE id = %(id)s AND user_id = %(user_id)s
