-- Claim a follow-up's reminder: only once per reminder time (a second job, or a retry after
-- the event was written, finds nothing), and only when it is still open or snoozed and due.
UPDATE crm.followups f SET reminded_for = f.remind_on
FROM crm.contacts c
WHERE f.id = %(id)s AND c.id = f.contact_id AND f.state IN ('open', 'snoozed')
  AND f.remind_on <= %(now)s AND f.reminded_for IS DISTINCT FROM f.remind_on
RETURNING f.id, f.workspace_id, f.user_id, f.contact_id, f.reason, f.message_id, f.detail,
    f.remind_on, coalesce(nullif(c.name, ''), c.primary_address) AS contact_name
