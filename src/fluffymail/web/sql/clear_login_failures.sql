-- A login succeeded: forget its account's failures, and every key whose failures are past
-- their window and whose lock has run out.
DELETE FROM crm.login_throttle
WHERE key = %(key)s
   OR (last_failed_on < now() - make_interval(secs => %(window)s)
       AND (locked_until IS NULL OR locked_until < now()))
