DELETE FROM crm.contact_lists WHERE id = %(id)s AND owner_id = %(owner_id)s
