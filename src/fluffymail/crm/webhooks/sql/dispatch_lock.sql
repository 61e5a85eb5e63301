-- One dispatcher at a time (until the transaction ends): deliveries are made in event order.
SELECT pg_advisory_xact_lock(hashtext('crm.webhooks.dispatch'))
