-- One activity entry per contact or company the run created or updated.
INSERT INTO crm.activity (workspace_id, actor_id, subject_kind, subject_id, action, detail, at)
SELECT %(workspace_id)s, %(user_id)s, %(subject_kind)s,
       CASE WHEN %(kind)s = 'contacts' THEN r.contact_id ELSE r.company_id END,
       %(subject_kind)s || '.imported',
       jsonb_build_object('import_id', %(run_id)s::bigint, 'file', %(filename)s::text,
                          'created', r.outcome = 'created'),
       %(now)s
FROM crm.import_rows r
WHERE r.run_id = %(run_id)s AND r.outcome IS NOT NULL
ORDER BY r.row_no
