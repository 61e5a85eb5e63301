-- Cadence follow-ups the user should have: each contact with a cadence is due that many days
-- after the last message either way, or after the user last marked one of the contact's
-- cadence follow-ups done or dismissed ("I touched base now"; those rounds stay closed, see
-- cadence_archive.sql), whichever is later; never in touch: due when the cadence was set (in
-- a mailbox that is an archive, no later than `archive_at`, the time its follow-ups are as of:
-- crm/followups/service.py `as_of`; NULL for a live one, and least() ignores it).
-- With the last message, the one the figures' last contact dates (a later link is mail the
-- figures leave out: bulk, automated). "The last message" is the figures' last contact
-- (crm.relationships.last_at, SCORING.md "Figures"), the date the contact's page shows; before
-- any analysis, the links' last date.
SELECT cc.contact_id, cc.days,
       coalesce(greatest(coalesce(r.last_at, c.last_interaction_on), t.touched_on)
                    + make_interval(days => cc.days),
                least(cc.set_on, %(archive_at)s::timestamptz)) AS due_on,
       (SELECT l.message_id
        FROM crm.contact_addresses a
        JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
        WHERE a.contact_id = cc.contact_id AND a.user_id = cc.user_id
          AND l.role IN ('sent_to', 'received_from')
          AND (r.last_at IS NULL OR l.occurred_on <= r.last_at)  -- not later bulk mail
        ORDER BY l.occurred_on DESC NULLS LAST, l.message_id DESC LIMIT 1) AS message_id
FROM crm.contact_cadences cc
JOIN crm.contacts c ON c.id = cc.contact_id AND c.merged_into_id IS NULL
    AND c.suppressed_reason IS NULL  -- hidden, not a person or yourself: no reminders
LEFT JOIN crm.relationships r ON r.user_id = cc.user_id AND r.contact_id = cc.contact_id
LEFT JOIN LATERAL (
    SELECT max(f.closed_on) AS touched_on FROM crm.followups f
    WHERE f.contact_id = cc.contact_id AND f.user_id = cc.user_id AND f.reason = 'cadence'
      AND f.state IN ('done', 'dismissed')
) t ON true
WHERE cc.user_id = %(user_id)s
  AND (%(contact_ids)s::bigint[] IS NULL OR cc.contact_id = ANY(%(contact_ids)s::bigint[]))
