-- Per user, the messages stored before `before` that still have no search row: mail whose
-- run's index job failed for good, or whose run never reached its index step. The nightly
-- sweep of index-messages indexes them; newer mail is left to the run that stored it.
SELECT m.user_id, array_agg(m.id ORDER BY m.id) AS ids
FROM crm.messages m
WHERE m.created_on < %(before)s
  AND NOT EXISTS (SELECT 1 FROM crm.message_search s
                  WHERE s.user_id = m.user_id AND s.message_id = m.id)
GROUP BY m.user_id
ORDER BY m.user_id
