-- Record what the rule decided of each sent-folder sender; the evidence is refreshed on every
-- row, but a decision the user made stays.
INSERT INTO crm.mailbox_senders AS s
    (user_id, address, display_name, sent_messages, sent_total, kind, decided_by, reason,
     updated_on)
SELECT %(user_id)s, r.address, r.display_name, r.messages, r.total, r.kind, 'rule', r.reason,
       %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb)
    AS r(address text, display_name text, messages int, total int, kind text, reason text)
ORDER BY r.address
ON CONFLICT (user_id, address) DO UPDATE
SET display_name = excluded.display_name, sent_messages = excluded.sent_messages,
    sent_total = excluded.sent_total, updated_on = excluded.updated_on,
    kind = CASE WHEN s.decided_by = 'user' THEN s.kind ELSE excluded.kind END,
    reason = CASE WHEN s.decided_by = 'user' THEN s.reason ELSE excluded.reason END
