-- Drop relationships that no longer exist: rebuilt contacts (all of them on a full run) with
-- no interaction left, and contacts since merged into another or suppressed.
DELETE FROM crm.relationships r
WHERE r.user_id = %(user_id)s
  AND (((%(full)s OR r.contact_id = ANY(%(fresh)s::bigint[]))
        AND NOT r.contact_id = ANY(%(produced)s::bigint[]))
       OR EXISTS (SELECT 1 FROM crm.contacts c
                  WHERE c.id = r.contact_id
                    AND (c.merged_into_id IS NOT NULL OR c.suppressed_reason IS NOT NULL)))
RETURNING r.contact_id
