-- Change a subscription (a NULL leaves the field as it is); nothing when not the workspace's.
UPDATE crm.webhooks
SET url = coalesce(%(url)s, url),
    description = coalesce(%(description)s, description),
    events = coalesce(%(events)s, events),
    enabled = coalesce(%(enabled)s, enabled),
    secret = coalesce(%(secret)s, secret),
    changed_on = now()
WHERE id = %(id)s AND workspace_id = %(workspace_id)s
RETURNING id
