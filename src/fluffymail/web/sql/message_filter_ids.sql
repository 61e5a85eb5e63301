-- The ids of the user's messages that pass the contact and company filters of the message list
-- (each NULL filter passes everything; all given ones must hold): from the contact (their
-- interaction links, as on the contact's timeline), to or copied to it, with any contact of the
-- company. Found first from the links' index so that the list then reads only these messages
-- (a filter inside the list's scan of a million messages read them all). Another user's contact
-- or company gives none.
SELECT coalesce(array_agg(l.message_id ORDER BY l.message_id), '{}') AS ids
FROM (
    SELECT l.message_id
    FROM crm.contact_addresses a
    JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
    LEFT JOIN crm.contacts c ON c.id = a.contact_id
    WHERE a.user_id = %(user_id)s
      AND (a.contact_id = %(from_contact)s::bigint OR a.contact_id = %(to_contact)s::bigint
           OR c.company_id = %(company)s::bigint)
    GROUP BY l.message_id
    HAVING (%(from_contact)s::bigint IS NULL OR bool_or(
                a.contact_id = %(from_contact)s::bigint AND l.role = 'received_from'))
       AND (%(to_contact)s::bigint IS NULL OR bool_or(
                a.contact_id = %(to_contact)s::bigint AND l.role IN ('sent_to', 'cc')))
       AND (%(company)s::bigint IS NULL OR bool_or(c.company_id = %(company)s::bigint))
) l
