-- A password check succeeded: give its reservation back to the client address's count (one
-- failure less, the row gone at none; a lock that leaves the count under `free` goes too).
WITH emptied AS (
    DELETE FROM crm.login_throttle WHERE key = %(key)s AND failures <= 1
)
UPDATE crm.login_throttle
SET failures = failures - 1,
    locked_until = CASE WHEN failures - 1 >= %(free)s THEN locked_until END
WHERE key = %(key)s AND failures > 1
