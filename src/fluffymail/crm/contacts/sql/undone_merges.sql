-- Merges of these contacts the user undid: such a pair is never merged automatically again.
SELECT into_contact_id, from_contact_id
FROM crm.contact_merges
WHERE user_id = %(user_id)s AND unmerged_on IS NOT NULL
  AND (into_contact_id = ANY(%(ids)s::bigint[]) OR from_contact_id = ANY(%(ids)s::bigint[]))
