SELECT * FROM crm.connections WHERE id = %(id)s
