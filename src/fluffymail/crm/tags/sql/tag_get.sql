-- One of a workspace's tags, with how many of the user's contacts carry it (counted as
-- tag_list.sql counts: the visible people the contacts list shows under ?tag=).
SELECT t.id, t.name, t.colour,
       (SELECT count(*) FROM crm.contact_tags ct
        JOIN crm.contacts c ON c.id = ct.contact_id
        WHERE ct.tag_id = t.id AND c.user_id = %(user_id)s AND c.created
          AND c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
          AND c.kind = 'person') AS contacts
FROM crm.tags t
WHERE t.id = %(tag_id)s AND t.workspace_id = %(workspace_id)s
