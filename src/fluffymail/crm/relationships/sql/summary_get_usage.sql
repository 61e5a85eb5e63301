-- Tokens and calls the user spent on AI on `day`.
SELECT tokens, calls FROM crm.ai_usage WHERE user_id = %(user_id)s AND day = %(day)s
