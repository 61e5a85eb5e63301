-- The user's messages above `after` (an id) that have no search row yet: what a sync's run
-- stored with its indexing deferred (0038), in id order.
SELECT m.id FROM crm.messages m
WHERE m.user_id = %(user_id)s AND m.id > %(after)s
  AND NOT EXISTS (SELECT 1 FROM crm.message_search s
                  WHERE s.user_id = m.user_id AND s.message_id = m.id)
ORDER BY m.id
