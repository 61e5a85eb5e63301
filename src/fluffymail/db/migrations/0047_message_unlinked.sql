-- Mail a sync found deleted on the server, kept as rows until the sync's end decides (issue
-- 21, "Deletions" in crm/mail/README.md). A batch that forgets provider ids (an expunge, a
-- Gmail messagesDeleted record, a resync, an id that now names other mail) may leave messages
-- in no folder; they are deleted at the end of the sync, once no folder of any connection
-- holds them (a moved message is found again in its new folder later in the same sync). The
-- set was held in the worker's memory: a worker killed in between lost it, and those messages
-- stayed in the CRM, in no folder, for ever. Now each batch writes them here in its own
-- transaction, and the end of a sync of the connection (this one or, after a kill, the next)
-- takes every row of it.
CREATE TABLE crm.message_unlinked (
    user_id       bigint NOT NULL,
    connection_id bigint NOT NULL REFERENCES crm.connections (id) ON DELETE CASCADE,
    message_id    bigint NOT NULL,
    PRIMARY KEY (user_id, connection_id, message_id)
);
CREATE INDEX message_unlinked_connection_idx ON crm.message_unlinked (connection_id);

-- Messages a killed worker already left in no folder: given to one of their user's
-- connections, whose next sync deletes those still in no folder then.
INSERT INTO crm.message_unlinked (user_id, connection_id, message_id)
SELECT m.user_id, c.connection_id, m.id
FROM crm.messages m
JOIN (SELECT user_id, min(id) AS connection_id FROM crm.connections GROUP BY user_id) c
    ON c.user_id = m.user_id
WHERE NOT EXISTS (SELECT 1 FROM crm.message_folders mf WHERE mf.message_id = m.id);
