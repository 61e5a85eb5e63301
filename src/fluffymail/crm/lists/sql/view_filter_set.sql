-- Rewrite a saved view's filter whoever owns it (a tag it names was renamed).
UPDATE crm.contact_lists
SET filter = %(filter)s, updated_on = now()
WHERE id = %(id)s AND kind = 'view'
