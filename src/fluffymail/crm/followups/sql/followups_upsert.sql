-- Save the follow-ups the user should have (from recomputing): new ones open; open ones take
-- the new due time (a cadence's moves with the mail); snoozed ones keep their snooze; resolved
-- ones (closed by themselves: the cadence cleared, the contact merged away) open again, as
-- what closed them is undone; done or dismissed ones stay closed (a cadence's next round is a
-- new follow-up, cadence_archive.sql). Returns the rows whose reminder time changed, to
-- (re)schedule.
WITH incoming AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS i (contact_id bigint, reason text,
        key text, message_id bigint, detail text, due_on timestamptz)
), old AS (
    SELECT f.id, f.remind_on FROM crm.followups f JOIN incoming i USING (contact_id, key)
), saved AS (
    INSERT INTO crm.followups AS f (workspace_id, user_id, contact_id, reason, key, message_id,
        detail, due_on, remind_on)
    SELECT %(workspace_id)s, %(user_id)s, i.contact_id, i.reason, i.key, i.message_id, i.detail,
        i.due_on, i.due_on
    FROM incoming i
    ON CONFLICT (contact_id, key) DO UPDATE SET
        message_id = EXCLUDED.message_id,
        detail = EXCLUDED.detail,
        due_on = CASE WHEN f.reason = 'cadence' THEN EXCLUDED.due_on ELSE f.due_on END,
        remind_on = CASE
            WHEN f.state IN ('open', 'resolved') AND f.reason = 'cadence' THEN EXCLUDED.due_on
            WHEN f.state = 'resolved' THEN f.due_on
            ELSE f.remind_on END,
        state = CASE WHEN f.state = 'resolved' THEN 'open' ELSE f.state END,
        closed_on = CASE WHEN f.state = 'resolved' THEN NULL ELSE f.closed_on END,
        changed_on = CASE
            WHEN f.state = 'resolved' THEN now()
            WHEN f.remind_on IS DISTINCT FROM EXCLUDED.due_on AND f.state = 'open' THEN now()
            ELSE f.changed_on END
    WHERE f.user_id = EXCLUDED.user_id
    RETURNING f.id, f.remind_on, f.state
)
SELECT s.id, s.remind_on
FROM saved s LEFT JOIN old o ON o.id = s.id
WHERE s.state IN ('open', 'snoozed') AND s.remind_on IS DISTINCT FROM o.remind_on
