-- Search rows for messages a sync stored with their indexing deferred (0038): written by the
-- extract-contacts job for its batch; a message already indexed is left as it is, its vector
-- not even computed (the nightly sweep may send mail a long import's run indexes too).
INSERT INTO crm.message_search (user_id, message_id, date, has_attachment, vector, pairs)
SELECT v.user_id, v.id, v.date, v.has_attachment, v.vector, crm.message_pairs(v.vector)
FROM (SELECT m.user_id, m.id, m.date, m.has_attachment,
             crm.message_vector(m.subject, m.from_name, m.from_address, m.recipients,
                                m.body_text) AS vector
      FROM crm.messages m
      WHERE m.id = ANY(%(ids)s::bigint[])
        AND NOT EXISTS (SELECT 1 FROM crm.message_search s
                        WHERE s.user_id = m.user_id AND s.message_id = m.id)) v
ON CONFLICT (user_id, message_id) DO NOTHING
