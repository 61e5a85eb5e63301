-- Webhooks' encrypted signing secrets after `after` (by id), for key rotation.
SELECT id, secret FROM crm.webhooks WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
