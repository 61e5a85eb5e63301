WITH undone AS (
    UPDATE crm.company_merges SET unmerged_on = %(now)s, unmerged_by = %(actor)s
    WHERE id = %(id)s AND unmerged_on IS NULL
    RETURNING from_company_id
)
UPDATE crm.companies SET merged_into_id = NULL, updated_on = %(now)s
WHERE id IN (SELECT from_company_id FROM undone)
RETURNING id
