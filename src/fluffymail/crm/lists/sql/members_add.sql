-- Put contacts on a static list; answers those not already on it.
INSERT INTO crm.contact_list_members (list_id, contact_id, added_by)
SELECT %(list_id)s, id, %(user_id)s FROM unnest(%(contact_ids)s::bigint[]) AS id ORDER BY id
ON CONFLICT DO NOTHING
RETURNING contact_id
