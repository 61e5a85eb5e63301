-- Replace a reservation by what the provider really counted (`spent`, `calls`); spent = 0 and
-- calls = 0 release it.
INSERT INTO crm.ai_usage AS u (user_id, day, tokens, calls)
VALUES (%(user_id)s, %(day)s, greatest(%(spent)s - %(reserved)s, 0), %(calls)s)
ON CONFLICT (user_id, day) DO UPDATE SET
    tokens = greatest(u.tokens - %(reserved)s + %(spent)s, 0),
    calls = u.calls + %(calls)s
