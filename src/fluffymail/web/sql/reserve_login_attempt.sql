-- Reserve one password check on a throttle key (an account or a client address): count it as
-- a failure before the password is checked (a success gives it back), unless the key is
-- locked. Failures within `window` seconds of the one before add up; from the `free`-th on,
-- the key is locked for `base` seconds, doubling with each further failure, at most `cap`.
-- One statement, so parallel attempts are counted one after another: no more than `free` of
-- them reach a password check before the lock. A row comes back when the attempt may go on.
INSERT INTO crm.login_throttle AS t (key, failures, last_failed_on, locked_until)
VALUES (%(key)s, 1, now(),
        CASE WHEN %(free)s <= 1 THEN now() + make_interval(secs => %(base)s) END)
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN t.last_failed_on >= now() - make_interval(secs => %(window)s)
                    THEN t.failures + 1 ELSE 1 END,
    last_failed_on = now(),
    locked_until = CASE
        WHEN t.last_failed_on >= now() - make_interval(secs => %(window)s)
             AND t.failures + 1 >= %(free)s
        THEN now() + make_interval(secs => least(%(cap)s, %(base)s * 2 ^ (t.failures + 1 - %(free)s)))
    END
WHERE t.locked_until IS NULL OR t.locked_until <= now()
RETURNING key
