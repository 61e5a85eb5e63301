-- Mail dated in the future (issue 19) is stored undated, its claimed date kept as a problem;
-- mail stored before this rule gets the same treatment. Scores and summaries drop it at the
-- next full analysis (`fluffymail contacts top --analyze --full`).
UPDATE crm.messages
SET problems = problems || ('date-in-future:' || to_char(date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')),
    date = NULL
WHERE date > now() + interval '1 day';
