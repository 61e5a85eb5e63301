-- One of the user's company merges, locked for its undo.
SELECT id, into_company_id, from_company_id, contact_ids, actor, merged_on, unmerged_on
FROM crm.company_merges
WHERE id = %(id)s AND user_id = %(user_id)s
FOR UPDATE
