-- The user's contacts that are not merged into another (their counts follow their links).
SELECT id FROM crm.contacts WHERE user_id = %(user_id)s AND merged_into_id IS NULL ORDER BY id
