-- Participants of the messages being extracted ('sender' is not a participant of record).
SELECT message_id, role, address, display_name, valid
FROM crm.message_participants
WHERE message_id = ANY(%(ids)s::bigint[]) AND role IN ('from', 'to', 'cc', 'bcc', 'reply_to')
ORDER BY message_id, role, position
