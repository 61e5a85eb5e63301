-- Each user's own address, known aliases, name and delegates (mailbox_senders).
SELECT u.id AS user_id, u.email,
       coalesce(array_agg(a.address) FILTER (WHERE a.address IS NOT NULL), '{}') AS aliases,
       u.name,
       array(SELECT s.address FROM crm.mailbox_senders s
             WHERE s.user_id = u.id AND s.kind = 'delegate' ORDER BY s.address) AS delegates
FROM crm.users u
LEFT JOIN crm.user_aliases a ON a.user_id = u.id
WHERE u.id = ANY(%(user_ids)s::bigint[])
GROUP BY u.id, u.email, u.name
