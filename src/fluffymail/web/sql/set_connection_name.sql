-- A connection's name, as its owner typed it when adding the same account again.
UPDATE crm.connections SET display_name = %(display_name)s WHERE id = %(id)s
