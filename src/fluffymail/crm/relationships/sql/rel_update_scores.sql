-- Rescore: store a batch of recomposed scores (the states are unchanged).
UPDATE crm.relationships r
SET score = s.score, level = s.level, trend = s.trend, going_cold = s.going_cold,
    evidence = s.evidence, stats = s.stats, computed_on = %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb) AS s(
    contact_id bigint, score real, level text, trend text, going_cold boolean,
    evidence jsonb, stats jsonb)
WHERE r.user_id = %(user_id)s AND r.contact_id = s.contact_id
