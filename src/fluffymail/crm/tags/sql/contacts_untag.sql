-- Take a tag off those of the contacts that are the user's; the contacts it came off come back.
DELETE FROM crm.contact_tags ct
USING crm.contacts c
WHERE ct.tag_id = %(tag_id)s AND ct.contact_id = ANY(%(contact_ids)s::bigint[])
  AND c.id = ct.contact_id AND c.user_id = %(user_id)s
RETURNING ct.contact_id
