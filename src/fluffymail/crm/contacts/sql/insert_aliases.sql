-- Record addresses that are the user; a contact already made for one is suppressed as
-- 'self'. Returns the addresses that were not known before.
WITH input AS (
    SELECT DISTINCT ON (address) address, source, message_id
    FROM jsonb_to_recordset(%(aliases)s::jsonb) AS a(address text, source text, message_id bigint)
    ORDER BY address, message_id
), added AS (
    INSERT INTO crm.user_aliases (user_id, address, source, message_id, created_on)
    SELECT %(user_id)s, address, source, message_id, %(now)s FROM input ORDER BY address
    ON CONFLICT (user_id, address) DO NOTHING
    RETURNING address
), suppressed AS (
    UPDATE crm.contacts c
    SET suppressed_reason = 'self', updated_on = %(now)s
    FROM crm.contact_addresses ca
    WHERE ca.user_id = %(user_id)s AND ca.address IN (SELECT address FROM added)
      AND c.id = ca.contact_id AND c.suppressed_reason IS NULL
)
SELECT address FROM added ORDER BY address
