-- What carries one of a workspace's tags (every teammate's contacts and companies), so that
-- deleting it is logged on each as it comes off them.
SELECT 'contact' AS kind, ct.contact_id AS id
FROM crm.contact_tags ct
JOIN crm.tags t ON t.id = ct.tag_id
WHERE t.id = %(tag_id)s AND t.workspace_id = %(workspace_id)s
UNION ALL
SELECT 'company', cot.company_id
FROM crm.company_tags cot
JOIN crm.tags t ON t.id = cot.tag_id
WHERE t.id = %(tag_id)s AND t.workspace_id = %(workspace_id)s
ORDER BY 1, 2
