-- What the mail of one of the user's connections made of the people in it (the import's
-- "why are there no contacts" line): its messages, those not yet extracted, those automated,
-- and the live people who wrote to the user, were written to, and are contacts. No row: not
-- the user's connection. Read on every poll of the connections page: each part is one pass
-- over the connection's folders by index, whatever the row estimates (fresh imports have none).
WITH connection AS (
    SELECT id, contact_policy FROM crm.connections
    WHERE id = %(connection_id)s AND user_id = %(user_id)s
), mail AS (   -- the connection's messages, once each (a message may be in several folders)
    SELECT DISTINCT mf.message_id
    FROM crm.folders f
    JOIN crm.message_folders mf ON mf.folder_id = f.id
    WHERE f.connection_id = (SELECT id FROM connection)
), msgs AS (   -- extraction's state beside them, by their keys (0043)
    SELECT count(*) AS messages, count(p.message_id) AS pending, count(a.message_id) AS automated
    FROM mail
    LEFT JOIN crm.message_pending p ON p.user_id = %(user_id)s AND p.message_id = mail.message_id
    LEFT JOIN crm.message_automated a
        ON a.user_id = %(user_id)s AND a.message_id = mail.message_id
), live AS (
    SELECT a.contact_id, c.created,
           bool_or(l.role = 'received_from') AS wrote,
           bool_or(l.role = 'sent_to') AS written_to
    FROM crm.folders f
    JOIN crm.message_folders mf ON mf.folder_id = f.id
    JOIN crm.contact_links l ON l.message_id = mf.message_id
    JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
    JOIN crm.contacts c ON c.id = a.contact_id
    WHERE f.connection_id = (SELECT id FROM connection) AND c.user_id = %(user_id)s
      AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
    GROUP BY a.contact_id, c.created
)
SELECT (SELECT contact_policy FROM connection) AS policy,
       (SELECT messages FROM msgs) AS messages,
       (SELECT pending FROM msgs) AS pending,
       (SELECT automated FROM msgs) AS automated,
       count(*) FILTER (WHERE wrote) AS wrote,
       count(*) FILTER (WHERE wrote AND NOT created) AS waiting,
       count(*) FILTER (WHERE written_to) AS written_to,
       count(*) FILTER (WHERE created) AS contacts
FROM live
WHERE EXISTS (SELECT 1 FROM connection)
