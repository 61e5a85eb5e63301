-- How far the user's setup is, for the empty contacts page: mailboxes connected, messages stored.
SELECT (SELECT count(*) FROM crm.connections WHERE user_id = %(user_id)s) AS connections,
       (SELECT count(*) FROM (SELECT 1 FROM crm.messages WHERE user_id = %(user_id)s LIMIT 1) m) AS messages
