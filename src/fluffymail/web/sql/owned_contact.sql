-- One of the user's contacts (merged or not), or no row: the existence check of the routes about
-- a contact (its notes, tags, activity). contact_get.sql reads the contact's figures too.
SELECT id FROM crm.contacts WHERE id = %(id)s AND user_id = %(user_id)s
