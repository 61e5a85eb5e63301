-- Delivery-status reports: remember the bounced addresses and flag the contacts' rows.
WITH input AS (
    SELECT DISTINCT ON (address) address, message_id, bounced_on
    FROM jsonb_to_recordset(%(bounces)s::jsonb) AS b(address text, message_id bigint, bounced_on timestamptz)
    ORDER BY address, bounced_on DESC NULLS LAST
), remembered AS (
    INSERT INTO crm.bounced_addresses (user_id, address, message_id, bounced_on)
    SELECT %(user_id)s, address, message_id, bounced_on FROM input ORDER BY address
    ON CONFLICT (user_id, address) DO NOTHING
)
UPDATE crm.contact_addresses a SET undeliverable = true
FROM input i
WHERE a.user_id = %(user_id)s AND a.address = i.address AND NOT a.undeliverable
