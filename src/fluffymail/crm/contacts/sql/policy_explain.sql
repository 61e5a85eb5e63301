-- What the mail of one of the user's connections made of the people in it (the import's
-- "why are there no contacts" line): its messages, those not yet extracted, those automated,
-- and the live people who wrote to the user, were written to, and are contacts. No row: not
-- the user's connection. Read on every poll of the connections page (cached per sync).
-- The people are asked from their side (0045): per address of a live person, is there a link
-- of that role whose message is in one of the connection's folders; the first link found
-- answers, so that part costs a few index probes per person, not a pass over the mail. The
-- counts of messages read the connection's folders once, and the extraction state by its keys.
WITH connection AS (
    SELECT id, contact_policy FROM crm.connections
    WHERE id = %(connection_id)s AND user_id = %(user_id)s
), folders AS MATERIALIZED (
    SELECT f.id FROM crm.folders f WHERE f.connection_id = (SELECT id FROM connection)
), addresses AS MATERIALIZED (   -- each address of a live person, with what its links say
    SELECT a.contact_id, c.created,
           EXISTS (
               SELECT 1 FROM crm.contact_links l
               WHERE l.user_id = a.user_id AND l.address = a.address AND l.role = 'received_from'
                 AND EXISTS (SELECT 1 FROM crm.message_folders mf
                             WHERE mf.message_id = l.message_id
                               AND mf.folder_id IN (SELECT id FROM folders))
           ) AS wrote,
           EXISTS (
               SELECT 1 FROM crm.contact_links l
               WHERE l.user_id = a.user_id AND l.address = a.address AND l.role = 'sent_to'
                 AND EXISTS (SELECT 1 FROM crm.message_folders mf
                             WHERE mf.message_id = l.message_id
                               AND mf.folder_id IN (SELECT id FROM folders))
           ) AS written_to,
           c.created AND EXISTS (   -- a contact in this mail in any role (a cc too)
               SELECT 1 FROM crm.contact_links l
               WHERE l.user_id = a.user_id AND l.address = a.address
                 AND EXISTS (SELECT 1 FROM crm.message_folders mf
                             WHERE mf.message_id = l.message_id
                               AND mf.folder_id IN (SELECT id FROM folders))
           ) AS contact
    FROM crm.contact_addresses a
    JOIN crm.contacts c ON c.id = a.contact_id
    WHERE a.user_id = %(user_id)s AND c.user_id = %(user_id)s
      AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
), people AS MATERIALIZED (   -- each person once, whichever of their addresses the mail used
    SELECT bool_or(wrote) AS wrote, bool_or(written_to) AS written_to,
           bool_or(contact) AS contact, bool_or(created) AS created
    FROM addresses
    GROUP BY contact_id
)
SELECT (SELECT contact_policy FROM connection) AS policy,
       (SELECT count(DISTINCT mf.message_id) FROM crm.message_folders mf
        WHERE mf.folder_id IN (SELECT id FROM folders)) AS messages,
       (SELECT count(*) FROM crm.message_pending p
        WHERE p.user_id = %(user_id)s
          AND EXISTS (SELECT 1 FROM crm.message_folders mf
                      WHERE mf.message_id = p.message_id
                        AND mf.folder_id IN (SELECT id FROM folders))) AS pending,
       (SELECT count(*) FROM crm.message_automated a
        WHERE a.user_id = %(user_id)s
          AND EXISTS (SELECT 1 FROM crm.message_folders mf
                      WHERE mf.message_id = a.message_id
                        AND mf.folder_id IN (SELECT id FROM folders))) AS automated,
       count(*) FILTER (WHERE wrote) AS wrote,
       count(*) FILTER (WHERE wrote AND NOT created) AS waiting,
       count(*) FILTER (WHERE written_to) AS written_to,
       count(*) FILTER (WHERE contact) AS contacts
FROM people
HAVING EXISTS (SELECT 1 FROM connection)   -- no row at all when it is not the user's
