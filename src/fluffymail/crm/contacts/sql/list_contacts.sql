-- Live contacts of a user; `visible_only` keeps those created under the policy.
SELECT c.id, c.primary_address, c.name, c.first_name, c.last_name, c.company_id, c.is_internal,
       c.created, c.suppressed_reason, c.sent_to_count, c.received_from_count, c.cc_count,
       c.first_interaction_on, c.last_interaction_on
FROM crm.contacts c
WHERE c.user_id = %(user_id)s AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
  AND (NOT %(visible_only)s OR c.created)
ORDER BY c.id
