-- Each user's own address, known aliases and name.
SELECT u.id AS user_id, u.email,
       coalesce(array_agg(a.address) FILTER (WHERE a.address IS NOT NULL), '{}') AS aliases,
       u.name
FROM crm.users u
LEFT JOIN crm.user_aliases a ON a.user_id = u.id
WHERE u.id = ANY(%(user_ids)s::bigint[])
GROUP BY u.id, u.email, u.name
