-- Store introductions (one per contact, sorted so concurrent batches lock in one order) and
-- drop the stale ones: contacts with no mail left, and contacts merged into another.
-- Returns how many rows were inserted, changed or deleted.
WITH found AS (
    SELECT *
    FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
        contact_id bigint, introducer text, introducer_contact_id bigint, message_id bigint,
        introduced_on timestamptz)
),
upserted AS (
    INSERT INTO crm.introductions AS i
        (user_id, contact_id, introducer, introducer_contact_id, message_id, introduced_on)
    SELECT %(user_id)s, f.contact_id, f.introducer, f.introducer_contact_id, f.message_id,
           f.introduced_on
    FROM found f
    ORDER BY f.contact_id
    ON CONFLICT (user_id, contact_id) DO UPDATE
        SET introducer = EXCLUDED.introducer,
            introducer_contact_id = EXCLUDED.introducer_contact_id,
            message_id = EXCLUDED.message_id,
            introduced_on = EXCLUDED.introduced_on
        WHERE (i.introducer, i.introducer_contact_id, i.message_id, i.introduced_on)
              IS DISTINCT FROM (EXCLUDED.introducer, EXCLUDED.introducer_contact_id,
                                EXCLUDED.message_id, EXCLUDED.introduced_on)
    RETURNING 1
),
deleted AS (
    DELETE FROM crm.introductions i
    USING crm.contacts c
    WHERE i.user_id = %(user_id)s AND c.id = i.contact_id
      AND (i.contact_id = ANY(%(no_mail)s::bigint[])
           OR (i.contact_id = ANY(%(contact_ids)s::bigint[]) AND c.merged_into_id IS NOT NULL))
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted) + (SELECT count(*) FROM deleted)
