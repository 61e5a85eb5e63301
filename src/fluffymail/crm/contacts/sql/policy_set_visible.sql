-- Store the creation policy's new verdict on existing links (a re-planned batch); returns each
-- changed link's address and its new `visible`. Rows are updated in key order (no deadlock with extraction).
WITH wanted AS (
    SELECT * FROM jsonb_to_recordset(%(links)s::jsonb) AS w(
        message_id bigint, address text, role text, visible boolean)
), changed AS (
    SELECT l.message_id, l.address, l.role FROM crm.contact_links l
    JOIN wanted w ON w.message_id = l.message_id AND w.address = l.address AND w.role = l.role
    WHERE l.visible <> w.visible
    ORDER BY l.message_id, l.address, l.role
    FOR UPDATE OF l
)
UPDATE crm.contact_links l SET visible = NOT l.visible
FROM changed c
WHERE l.message_id = c.message_id AND l.address = c.address AND l.role = c.role
RETURNING l.address, l.visible
