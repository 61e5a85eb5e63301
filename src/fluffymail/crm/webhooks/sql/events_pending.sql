-- How many outgoing events wait to be handed to the webhooks.
SELECT count(*) AS pending FROM crm.outgoing_events WHERE delivered_on IS NULL
