-- A cadence round the user marked done or dismissed stays so, the record of when they last
-- touched base (due_cadence.sql counts the next round from it): its key becomes
-- 'cadence:<id>', so the contact's next round (key 'cadence') is a follow-up of its own.
UPDATE crm.followups f SET key = 'cadence:' || f.id
WHERE f.user_id = %(user_id)s AND f.contact_id = ANY(%(contact_ids)s::bigint[])
  AND f.key = 'cadence' AND f.state IN ('done', 'dismissed')
RETURNING f.id
