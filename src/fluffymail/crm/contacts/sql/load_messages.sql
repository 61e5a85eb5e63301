-- Messages to extract, with the folders they were seen in and their connections' policies.
-- The body is only read for delivery reports (bounced addresses); X-From/X-To/X-cc carry
-- the names of Exchange/Notes exports whose address headers have none. Column order is
-- fixed: repo.load_messages reads the row by position.
SELECT m.id, m.user_id, m.date, m.list_id, m.list_unsubscribe, m.precedence, m.auto_submitted,
       m.return_path, m.content_type, m.has_calendar, m.is_delivery_report,
       CASE WHEN m.is_delivery_report OR m.return_path = '<>' THEN left(m.body_text, 20000) END
           AS report_text,
       m.extra_headers->>'x_from' AS x_from, m.extra_headers->>'x_to' AS x_to,
       m.extra_headers->>'x_cc' AS x_cc,
       coalesce(f.folders, '{}') AS folders,
       coalesce(f.policies, '{}') AS policies,
       (SELECT count(*) FROM crm.message_participants p
        WHERE p.message_id = m.id AND p.role IN ('to', 'cc', 'bcc')) AS recipient_count,
       m.extra_headers->>'bulk_signal' AS bulk_signal
FROM crm.messages m
LEFT JOIN LATERAL (
    SELECT array_agg(DISTINCT fo.name) AS folders, array_agg(DISTINCT c.contact_policy) AS policies
    FROM crm.message_folders mf
    JOIN crm.folders fo ON fo.id = mf.folder_id
    JOIN crm.connections c ON c.id = fo.connection_id
    WHERE mf.message_id = m.id
) f ON true
WHERE m.id = ANY(%(ids)s::bigint[])
ORDER BY m.id
