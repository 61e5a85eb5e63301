-- Per user, the messages extraction has not processed that were stored before `before`:
-- mostly a batch whose extract-contacts job failed for good (its messages stay pending, and
-- the analysis passes them over once they are an hour old). The nightly sweep of
-- extract-contacts sends them again.
SELECT p.user_id, array_agg(p.message_id ORDER BY p.message_id) AS ids
FROM crm.message_pending p
JOIN crm.messages m ON m.id = p.message_id
WHERE m.created_on < %(before)s
GROUP BY p.user_id
ORDER BY p.user_id
