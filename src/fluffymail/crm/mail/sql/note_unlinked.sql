-- Messages a batch of the connection's sync left in no folder: candidates for deletion at the
-- end of a sync of the connection (0047_message_unlinked.sql).
INSERT INTO crm.message_unlinked (user_id, connection_id, message_id)
SELECT %(user_id)s, %(connection_id)s, id FROM unnest(%(ids)s::bigint[]) AS id
ON CONFLICT DO NOTHING
