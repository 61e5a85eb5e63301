-- The demo's progress line: the user's messages, visible contacts and scored relationships.
SELECT (SELECT count(*) FROM crm.messages WHERE user_id = %(user_id)s)::int,
       (SELECT count(*) FROM crm.contacts
         WHERE user_id = %(user_id)s AND created AND merged_into_id IS NULL
           AND suppressed_reason IS NULL)::int,
       (SELECT count(*) FROM crm.relationships WHERE user_id = %(user_id)s)::int
