-- Participants of messages inserted in this transaction (so no conflicts are possible).
INSERT INTO crm.message_participants (message_id, role, position, address, display_name, valid)
SELECT p.message_id, p.role, p.position, p.address, p.display_name, p.valid
FROM jsonb_to_recordset(%(participants)s::jsonb) AS p(
    message_id bigint, role text, position integer, address text, display_name text, valid boolean
)
