-- The workspace's subscriptions with their deliveries counted by state, newest first.
SELECT w.id, w.workspace_id, w.url, w.description, w.events, w.enabled, w.created_on, w.changed_on,
       coalesce(d.delivered, 0) AS delivered, coalesce(d.failed, 0) AS failed,
       coalesce(d.pending, 0) AS pending
FROM crm.webhooks w
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE state = 'delivered') AS delivered,
           count(*) FILTER (WHERE state = 'failed') AS failed,
           count(*) FILTER (WHERE state = 'pending') AS pending
    FROM crm.webhook_deliveries WHERE webhook_id = w.id
) d ON true
WHERE w.workspace_id = %(workspace_id)s
  AND (%(id)s::bigint IS NULL OR w.id = %(id)s::bigint)
ORDER BY w.id DESC
