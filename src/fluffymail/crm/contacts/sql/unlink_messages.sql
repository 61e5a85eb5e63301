-- Mail linked to an address now known as the user's was extracted wrong (it was the user all
-- along): drop every link of those messages and their name votes; the caller recomputes the
-- contacts returned and extracts the messages again.
WITH affected AS (
    SELECT DISTINCT message_id FROM crm.contact_links
    WHERE user_id = %(user_id)s AND address = ANY(%(aliases)s::text[])
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
SELECT DISTINCT d.message_id, a.contact_id
FROM deleted d
LEFT JOIN crm.contact_addresses a ON a.user_id = %(user_id)s AND a.address = d.address
