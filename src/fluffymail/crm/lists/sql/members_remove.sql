-- Take contacts off a static list; answers those that were on it.
DELETE FROM crm.contact_list_members
WHERE list_id = %(list_id)s AND contact_id = ANY(%(contact_ids)s::bigint[])
RETURNING contact_id
