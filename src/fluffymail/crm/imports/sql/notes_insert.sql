-- The rows' notes on their contacts (a contacts import) or companies, each unless that
-- contact or company already has a note with the same text (so a re-import adds none).
INSERT INTO crm.notes (workspace_id, author_id, contact_id, company_id, body, created_on,
                       updated_on)
SELECT %(workspace_id)s, %(user_id)s, x.contact_id, x.company_id, x.body, %(now)s, %(now)s
FROM (
    SELECT DISTINCT CASE WHEN %(kind)s = 'contacts' THEN r.contact_id END AS contact_id,
           CASE WHEN %(kind)s = 'companies' THEN r.company_id END AS company_id, n.body
    FROM crm.import_rows r, unnest(r.notes) AS n(body)
    WHERE r.run_id = %(run_id)s
      AND (CASE WHEN %(kind)s = 'contacts' THEN r.contact_id ELSE r.company_id END) IS NOT NULL
) x
WHERE NOT EXISTS (
    SELECT FROM crm.notes o
    WHERE o.body = x.body
      AND (o.contact_id = x.contact_id OR o.company_id = x.company_id))
