-- Participants of the messages being extracted ('sender' is not a participant of record).
-- Of a message with more recipients than a person writes to (`bulk_ids`: bulk whoever they
-- are, see load_messages' recipient_count) only From and Reply-To are needed.
SELECT message_id, role, address, display_name, valid
FROM crm.message_participants
WHERE message_id = ANY(%(ids)s::bigint[]) AND role IN ('from', 'to', 'cc', 'bcc', 'reply_to')
  AND (role IN ('from', 'reply_to') OR message_id <> ALL(%(bulk_ids)s::bigint[]))
ORDER BY message_id, role, position
