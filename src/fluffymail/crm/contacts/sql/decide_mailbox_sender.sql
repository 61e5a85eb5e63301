-- The user's own decision on an address: it is them ('alias') or someone else ('delegate').
INSERT INTO crm.mailbox_senders AS s (user_id, address, kind, decided_by, reason, updated_on)
VALUES (%(user_id)s, %(address)s, %(kind)s, 'user', %(reason)s, %(now)s)
ON CONFLICT (user_id, address) DO UPDATE
SET kind = excluded.kind, decided_by = 'user', reason = excluded.reason,
    updated_on = excluded.updated_on
