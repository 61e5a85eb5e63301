SELECT credentials FROM crm.connections WHERE id = %(id)s
