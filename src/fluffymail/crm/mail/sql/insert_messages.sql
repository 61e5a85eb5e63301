-- Store a batch of new messages; rows another transaction stored meanwhile are skipped.
INSERT INTO crm.messages (
    user_id, dedup_key, message_id, thread_id, from_address, from_name, date, subject,
    snippet, body_text, content_type, list_id, list_unsubscribe, precedence, auto_submitted,
    return_path, in_reply_to, "references", extra_headers, size, has_calendar,
    is_delivery_report, problems, created_on
)
SELECT %(user_id)s, m.dedup_key, m.message_id, m.thread_id, m.from_address, m.from_name,
       m.date, m.subject, m.snippet, m.body_text, m.content_type, m.list_id,
       m.list_unsubscribe, m.precedence, m.auto_submitted, m.return_path, m.in_reply_to,
       coalesce(m."references", '{}'), m.extra_headers, m.size, m.has_calendar,
       m.is_delivery_report, coalesce(m.problems, '{}'), %(now)s
FROM jsonb_to_recordset(%(messages)s::jsonb) AS m(
    dedup_key text, message_id text, thread_id bigint, from_address text, from_name text,
    date timestamptz, subject text, snippet text, body_text text, content_type text,
    list_id text, list_unsubscribe text, precedence text, auto_submitted text,
    return_path text, in_reply_to text, "references" text[], extra_headers jsonb,
    size integer, has_calendar boolean, is_delivery_report boolean, problems text[]
)
ON CONFLICT (user_id, dedup_key) DO NOTHING
RETURNING id, dedup_key
