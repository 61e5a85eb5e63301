-- A webhook's delivery log, newest first (before `before` when paging); the caller checked
-- the webhook is the workspace's.
SELECT d.id, d.webhook_id, d.event_id, e.kind AS event_kind, d.subject, d.state, d.attempts,
       d.last_status, d.last_error, d.resend_of, d.created_on, d.finished_on
FROM crm.webhook_deliveries d
JOIN crm.outgoing_events e ON e.id = d.event_id
WHERE d.webhook_id = %(webhook_id)s
  AND (%(before)s::bigint IS NULL OR d.id < %(before)s::bigint)
  AND (%(id)s::bigint IS NULL OR d.id = %(id)s::bigint)
  AND (%(state)s::text IS NULL OR d.state = %(state)s::text)
ORDER BY d.id DESC
LIMIT %(limit)s
