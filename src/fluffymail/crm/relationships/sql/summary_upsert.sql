-- Store the latest summary (or failure) of one (user, contact), replacing the previous one.
INSERT INTO crm.relationship_summaries (
    user_id, contact_id, status, generated_by, prompt_version, summary, error,
    input_tokens, output_tokens, last_message_at, created_on
) VALUES (
    %(user_id)s, %(contact_id)s, %(status)s, %(generated_by)s, %(prompt_version)s, %(summary)s,
    %(error)s, %(input_tokens)s, %(output_tokens)s, %(last_message_at)s, %(created_on)s
)
ON CONFLICT (user_id, contact_id) DO UPDATE SET
    status = excluded.status,
    generated_by = excluded.generated_by,
    prompt_version = excluded.prompt_version,
    summary = excluded.summary,
    error = excluded.error,
    input_tokens = excluded.input_tokens,
    output_tokens = excluded.output_tokens,
    last_message_at = excluded.last_message_at,
    created_on = excluded.created_on
