-- Drop the fan-out evidence of the user's mail that names one of `addresses` (newly known as
-- the user's own or a delegate's: that mail no longer reached the user without naming them).
DELETE FROM crm.fanout_evidence e
WHERE e.user_id = %(user_id)s
  AND (e.address = ANY(%(addresses)s::text[]) OR e.sender = ANY(%(addresses)s::text[])
       OR EXISTS (SELECT 1 FROM crm.message_participants p
                  WHERE p.message_id = e.message_id AND p.role = 'bcc'
                    AND lower(p.address) = ANY(%(addresses)s::text[])))
