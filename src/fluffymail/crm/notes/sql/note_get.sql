-- One note about one of the user's contacts or companies (written in any workspace: only the
-- contact's or company's user writes about it), with its author and the contacts it mentions.
SELECT n.id, n.contact_id, n.company_id, n.body, n.created_on, n.updated_on, n.author_id,
       coalesce(nullif(u.name, ''), u.email, 'someone') AS author,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'id', m.id, 'label', coalesce(nullif(m.name, ''), m.primary_address))
                   ORDER BY m.id), '[]')
        FROM crm.note_mentions nm JOIN crm.contacts m ON m.id = nm.contact_id
        WHERE nm.note_id = n.id) AS mentions
FROM crm.notes n
LEFT JOIN crm.users u ON u.id = n.author_id
LEFT JOIN crm.contacts c ON c.id = n.contact_id
LEFT JOIN crm.companies co ON co.id = n.company_id
WHERE n.id = %(note_id)s
  AND coalesce(c.user_id, co.user_id) = %(user_id)s
