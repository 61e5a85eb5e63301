WITH undone AS (
    UPDATE crm.contact_merges SET unmerged_on = %(now)s, unmerged_by = %(actor)s
    WHERE id = %(id)s AND unmerged_on IS NULL
    RETURNING from_contact_id
)
UPDATE crm.contacts SET merged_into_id = NULL, updated_on = %(now)s
WHERE id IN (SELECT from_contact_id FROM undone)
RETURNING id
