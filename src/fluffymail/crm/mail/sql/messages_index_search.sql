-- Search rows for messages a sync stored with their indexing deferred (0038): written by the
-- extract-contacts job for its batch; a message already indexed is left as it is.
INSERT INTO crm.message_search (user_id, message_id, date, has_attachment, vector, pairs)
SELECT v.user_id, v.id, v.date, v.has_attachment, v.vector, crm.message_pairs(v.vector)
FROM (SELECT m.user_id, m.id, m.date, m.has_attachment,
             crm.message_vector(m.subject, m.from_name, m.from_address, m.recipients,
                                m.body_text) AS vector
      FROM crm.messages m
      WHERE m.id = ANY(%(ids)s::bigint[])) v
ON CONFLICT (user_id, message_id) DO NOTHING
