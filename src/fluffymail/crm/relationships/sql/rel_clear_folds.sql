-- A full run starts the fold bookkeeping of the user over.
DELETE FROM crm.relationship_folds WHERE user_id = %(user_id)s
