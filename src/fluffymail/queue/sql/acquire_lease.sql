-- Take or renew a named lease; returns a row only to the holder.
INSERT INTO queue.lease AS l (name, holder, expires_on)
VALUES (%(name)s, %(holder)s, now() + make_interval(secs => %(ttl)s))
ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_on = EXCLUDED.expires_on
WHERE l.holder = EXCLUDED.holder OR l.expires_on < now()
RETURNING holder
