-- What the mail of one of the user's connections made of the people in it (the import's
-- "why are there no contacts" line): its messages, those not yet extracted, those automated,
-- and the live people who wrote to the user, were written to, and are contacts (people the
-- contacts list shows: a group is a contact of /groups, not counted there). No row: not
-- the user's connection. Read on every poll of the connections page (cached per sync).
-- The counts are kept as the mail changes (0046): the connection's messages and automated
-- ones as rows of changes to sum, and per address what its links in this mail are, read per
-- address of a live person. Only the mail not yet extracted is counted here, from its list
-- (empty once extraction caught up).
WITH connection AS (
    SELECT id, contact_policy FROM crm.connections
    WHERE id = %(connection_id)s AND user_id = %(user_id)s
), totals AS (
    SELECT coalesce(sum(t.messages), 0) AS messages, coalesce(sum(t.automated), 0) AS automated
    FROM crm.connection_totals t
    WHERE t.user_id = %(user_id)s AND t.connection_id = (SELECT id FROM connection)
), people AS MATERIALIZED (   -- each person once, whichever of their addresses the mail used
    SELECT bool_or(k.received > 0) AS wrote, bool_or(k.sent > 0) AS written_to,
           bool_or(c.created AND k.links > 0) AS contact, bool_or(c.created) AS created,
           bool_and(c.kind = 'person') AS person
    FROM crm.contact_addresses a
    JOIN crm.contacts c ON c.id = a.contact_id
    JOIN crm.connection_correspondents k
        ON k.user_id = a.user_id AND k.connection_id = (SELECT id FROM connection)
       AND k.address = a.address
    WHERE a.user_id = %(user_id)s AND c.user_id = %(user_id)s
      AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
    GROUP BY a.contact_id
)
SELECT (SELECT contact_policy FROM connection) AS policy,
       (SELECT messages FROM totals) AS messages,
       (SELECT count(*) FROM crm.message_pending p
        WHERE p.user_id = %(user_id)s
          AND (SELECT id FROM connection) = ANY (crm.message_connections(p.message_id))) AS pending,
       (SELECT automated FROM totals) AS automated,
       count(*) FILTER (WHERE wrote) AS wrote,
       count(*) FILTER (WHERE wrote AND NOT created) AS waiting,
       count(*) FILTER (WHERE written_to) AS written_to,
       count(*) FILTER (WHERE contact AND person) AS contacts   -- as the contacts list: no groups
FROM people
HAVING EXISTS (SELECT 1 FROM connection)   -- no row at all when it is not the user's
