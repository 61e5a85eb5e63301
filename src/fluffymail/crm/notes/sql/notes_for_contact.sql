-- The notes about a contact or mentioning it, newest first, from whichever workspace the user
-- was in when writing them (the caller checked the contact is the user's; a note mentions
-- only contacts of its author's).
SELECT n.id, n.contact_id, n.company_id, n.body, n.created_on, n.updated_on, n.author_id,
       coalesce(nullif(u.name, ''), u.email, 'someone') AS author,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'id', m.id, 'label', coalesce(nullif(m.name, ''), m.primary_address))
                   ORDER BY m.id), '[]')
        FROM crm.note_mentions nm JOIN crm.contacts m ON m.id = nm.contact_id
        WHERE nm.note_id = n.id) AS mentions
FROM crm.notes n
LEFT JOIN crm.users u ON u.id = n.author_id
WHERE (n.contact_id = %(contact_id)s
       OR n.id IN (SELECT note_id FROM crm.note_mentions WHERE contact_id = %(contact_id)s))
ORDER BY n.created_on DESC, n.id DESC
LIMIT %(limit)s
