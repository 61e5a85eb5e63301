-- How many whole seconds the longest lock on these throttle keys has left (0: none).
SELECT coalesce(ceil(extract(epoch FROM max(locked_until) - now())), 0)::int AS wait
FROM crm.login_throttle
WHERE key = ANY(%(keys)s) AND locked_until > now()
