-- Lock a note for an edit or a deletion, before it is read (note_get.sql checks it is the
-- user's), so a version the caller saw is compared with the one it changes.
SELECT id FROM crm.notes WHERE id = %(note_id)s FOR UPDATE
