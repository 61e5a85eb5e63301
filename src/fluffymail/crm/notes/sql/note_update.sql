-- A note's new text.
UPDATE crm.notes SET body = %(body)s, updated_on = %(now)s
WHERE id = %(note_id)s
