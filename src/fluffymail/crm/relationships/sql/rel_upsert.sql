-- Store a batch of analysed relationships; per contact, whether it is new this run and
-- whether its mail changed (counts or last message) since the stored analysis.
WITH incoming AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
        contact_id bigint, score real, level text, trend text, going_cold boolean,
        sent integer, received integer, two_way_threads integer, threads integer,
        first_at timestamptz, last_at timestamptz,
        evidence jsonb, stats jsonb, state jsonb)
), old AS (
    SELECT r.contact_id, r.sent, r.received, r.last_at
    FROM crm.relationships r
    WHERE r.user_id = %(user_id)s AND r.contact_id IN (SELECT contact_id FROM incoming)
), up AS (
    INSERT INTO crm.relationships AS r (
        user_id, contact_id, score, level, trend, going_cold, sent, received, two_way_threads,
        threads, first_at, last_at, evidence, stats, state, computed_on)
    SELECT %(user_id)s, contact_id, score, level, trend, going_cold, sent, received,
           two_way_threads, threads, first_at, last_at, evidence, stats, state, %(now)s
    FROM incoming
    ORDER BY contact_id
    ON CONFLICT (user_id, contact_id) DO UPDATE SET
        score = excluded.score, level = excluded.level, trend = excluded.trend,
        going_cold = excluded.going_cold, sent = excluded.sent, received = excluded.received,
        two_way_threads = excluded.two_way_threads, threads = excluded.threads, first_at = excluded.first_at,
        last_at = excluded.last_at, evidence = excluded.evidence, stats = excluded.stats,
        state = excluded.state,
        computed_on = excluded.computed_on
    RETURNING r.contact_id, r.sent, r.received, r.last_at
)
SELECT up.contact_id,
       old.contact_id IS NULL AS is_new,
       (old.sent, old.received, old.last_at) IS DISTINCT FROM (up.sent, up.received, up.last_at)
           AS changed
FROM up LEFT JOIN old ON old.contact_id = up.contact_id
