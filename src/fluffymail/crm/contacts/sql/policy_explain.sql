-- What the mail of one of the user's connections made of the people in it (the import's
-- "why are there no contacts" line): its messages, those not yet extracted, those automated,
-- and the live people who wrote to the user, were written to, and are contacts. No row: not
-- the user's connection.
WITH connection AS (
    SELECT id, contact_policy FROM crm.connections
    WHERE id = %(connection_id)s AND user_id = %(user_id)s
), msgs AS (
    SELECT m.id, m.processed_on IS NULL AS pending, m.automated_reason IS NOT NULL AS automated
    FROM crm.messages m
    WHERE m.id IN (SELECT mf.message_id FROM crm.folders f
                   JOIN crm.message_folders mf ON mf.folder_id = f.id
                   WHERE f.connection_id = (SELECT id FROM connection))
), people AS (
    SELECT a.contact_id,
           bool_or(l.role = 'received_from') AS wrote,
           bool_or(l.role = 'sent_to') AS written_to
    FROM msgs
    JOIN crm.contact_links l ON l.message_id = msgs.id
    JOIN crm.contact_addresses a ON a.user_id = l.user_id AND a.address = l.address
    GROUP BY a.contact_id
), live AS (
    SELECT p.*, c.created FROM people p JOIN crm.contacts c ON c.id = p.contact_id
    WHERE c.user_id = %(user_id)s AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
)
SELECT (SELECT contact_policy FROM connection) AS policy,
       (SELECT count(*) FROM msgs) AS messages,
       (SELECT count(*) FROM msgs WHERE pending) AS pending,
       (SELECT count(*) FROM msgs WHERE automated) AS automated,
       count(*) FILTER (WHERE wrote) AS wrote,
       count(*) FILTER (WHERE wrote AND NOT created) AS waiting,
       count(*) FILTER (WHERE written_to) AS written_to,
       count(*) FILTER (WHERE created) AS contacts
FROM live
WHERE EXISTS (SELECT 1 FROM connection)
