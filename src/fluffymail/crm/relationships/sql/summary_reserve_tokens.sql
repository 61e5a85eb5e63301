-- Reserve `tokens` of the user's daily AI budget before a call, atomically: no row comes back
-- when the reservation would pass `budget` (concurrent jobs of one user cannot overspend).
INSERT INTO crm.ai_usage AS u (user_id, day, tokens, calls)
SELECT %(user_id)s, %(day)s, %(tokens)s, 0
WHERE %(tokens)s <= %(budget)s
ON CONFLICT (user_id, day) DO UPDATE SET tokens = u.tokens + excluded.tokens
    WHERE u.tokens + excluded.tokens <= %(budget)s
RETURNING u.tokens
