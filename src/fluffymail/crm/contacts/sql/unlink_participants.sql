-- Mail with a participant at an address that is no longer the user's was extracted as the
-- user's: drop every link of those messages and their name votes; the caller recomputes the
-- contacts returned and extracts the messages again. Returns every such message.
WITH affected AS (
    SELECT DISTINCT p.message_id
    FROM crm.message_participants p
    JOIN crm.messages m ON m.id = p.message_id
    WHERE p.address = ANY(%(addresses)s::text[]) AND m.user_id = %(user_id)s
), deleted AS (
    DELETE FROM crm.contact_links l USING affected a
    WHERE l.message_id = a.message_id
    RETURNING l.message_id, l.address, l.display_name
), unvoted AS (
    UPDATE crm.contact_name_votes v SET votes = v.votes - d.n
    FROM (SELECT address, display_name, count(*) AS n FROM deleted
          WHERE display_name <> '' GROUP BY address, display_name) d
    WHERE v.user_id = %(user_id)s AND v.address = d.address AND v.display_name = d.display_name
)
SELECT a.message_id, c.contact_id
FROM affected a
LEFT JOIN (
    SELECT DISTINCT d.message_id, ca.contact_id
    FROM deleted d
    JOIN crm.contact_addresses ca ON ca.user_id = %(user_id)s AND ca.address = d.address
) c ON c.message_id = a.message_id
