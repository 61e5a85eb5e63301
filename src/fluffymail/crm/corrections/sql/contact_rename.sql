-- The user names their contact; extraction leaves a name with name_source 'you' alone.
UPDATE crm.contacts
SET name = %(name)s, first_name = %(first_name)s, last_name = %(last_name)s,
    name_quality = %(quality)s, name_source = 'you', updated_on = %(now)s
WHERE id = %(id)s AND user_id = %(user_id)s AND merged_into_id IS NULL
RETURNING id
