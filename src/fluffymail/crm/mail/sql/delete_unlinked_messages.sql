-- Delete those of the given messages that no folder of any connection holds (deleted on the
-- server, or not found again by a resync); participants and contact links go with them.
-- Returns (deleted message ids, their threads, the contacts linked to them).
WITH doomed AS (
    SELECT m.id, m.thread_id
    FROM crm.messages m
    WHERE m.user_id = %(user_id)s AND m.id = ANY(%(ids)s::bigint[])
      AND NOT EXISTS (SELECT 1 FROM crm.message_folders mf WHERE mf.message_id = m.id)
), touched AS (
    SELECT DISTINCT a.contact_id
    FROM crm.contact_links l
    JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
    WHERE l.message_id IN (SELECT id FROM doomed)
), deleted AS (
    DELETE FROM crm.messages m USING doomed d WHERE m.id = d.id
    RETURNING m.id, m.thread_id
)
SELECT coalesce((SELECT array_agg(id ORDER BY id) FROM deleted), '{}') AS deleted,
       coalesce((SELECT array_agg(DISTINCT thread_id) FROM deleted WHERE thread_id IS NOT NULL),
                '{}') AS thread_ids,
       coalesce((SELECT array_agg(contact_id ORDER BY contact_id) FROM touched), '{}')
           AS contact_ids
