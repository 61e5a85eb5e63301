-- Set the keep-in-touch cadence of the user's contacts (the caller checked they are the
-- user's); each with the cadence it had before (NULL: none).
WITH old AS (
    SELECT contact_id, days FROM crm.contact_cadences
    WHERE user_id = %(user_id)s AND contact_id = ANY(%(contact_ids)s::bigint[])
), saved AS (
    INSERT INTO crm.contact_cadences (contact_id, user_id, days, set_by)
    SELECT id, %(user_id)s, %(days)s, %(user_id)s FROM unnest(%(contact_ids)s::bigint[]) AS id
    ON CONFLICT (contact_id) DO UPDATE SET days = EXCLUDED.days, set_by = EXCLUDED.set_by,
        set_on = now()
    RETURNING contact_id
)
SELECT s.contact_id, o.days AS before
FROM saved s LEFT JOIN old o USING (contact_id)
ORDER BY s.contact_id
