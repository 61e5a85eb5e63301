-- A contact (and its address row) for every address not yet known to the user. Sorted, so
-- concurrent batches wait on each other's unique keys in one order (no deadlock); a loser of
-- the race gets nothing back here and reads the winner's row with find_contacts. Known
-- addresses are looked up by key (= ANY), so the cost follows the batch, not the user's size.
-- `defect`: the address is damaged but kept (issue 12); `kind`/`kind_reason`: a group's.
WITH input AS (
    SELECT DISTINCT ON (address) address, company_id, is_internal, defect,
           coalesce(kind, 'person') AS kind, kind_reason
    FROM jsonb_to_recordset(%(contacts)s::jsonb) AS c(
        address text, company_id bigint, is_internal boolean, defect text, kind text,
        kind_reason text)
    ORDER BY address
), known AS (
    SELECT a.address, a.contact_id FROM crm.contact_addresses a
    WHERE a.user_id = %(user_id)s AND a.address = ANY(ARRAY(SELECT address FROM input))
), missing AS (
    SELECT i.* FROM input i WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.address = i.address)
), new_contacts AS (
    INSERT INTO crm.contacts (user_id, primary_address, company_id, is_internal, kind, kind_reason,
                              created_on, updated_on)
    SELECT %(user_id)s, address, company_id, is_internal, kind, kind_reason, %(now)s, %(now)s
    FROM missing ORDER BY address
    ON CONFLICT (user_id, primary_address) DO NOTHING
    RETURNING id, primary_address
), new_addresses AS (
    INSERT INTO crm.contact_addresses (user_id, address, contact_id, undeliverable, defect,
                                       created_on)
    SELECT %(user_id)s, n.primary_address, n.id,
           EXISTS (SELECT 1 FROM crm.bounced_addresses b
                   WHERE b.user_id = %(user_id)s AND b.address = n.primary_address),
           i.defect, %(now)s
    FROM new_contacts n JOIN input i ON i.address = n.primary_address ORDER BY n.primary_address
    ON CONFLICT (user_id, address) DO NOTHING
    RETURNING address, contact_id
)
SELECT address, contact_id, true AS is_new FROM new_addresses
UNION ALL
SELECT address, contact_id, false FROM known
