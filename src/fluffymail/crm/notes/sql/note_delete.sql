-- Delete a note (its mentions go with it).
DELETE FROM crm.notes WHERE id = %(note_id)s
