-- Which of the contacts given are the user's and not merged away (locked until the caller's
-- transaction ends, so a bulk change sees them as they are).
SELECT c.id
FROM crm.contacts c
WHERE c.id = ANY(%(contact_ids)s::bigint[]) AND c.user_id = %(user_id)s
  AND c.merged_into_id IS NULL
ORDER BY c.id
FOR SHARE
