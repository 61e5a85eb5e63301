-- What a user's import has produced so far: contacts found, relationships scored.
SELECT (SELECT count(*) FROM crm.contacts WHERE user_id = %(user_id)s) AS contacts,
       (SELECT count(*) FROM crm.relationships WHERE user_id = %(user_id)s AND score > 0) AS scored
