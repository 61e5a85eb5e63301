-- Use a pending Gmail sign-in, once, from the session that started it and within max_age
-- seconds. Returns no row for an unknown state; otherwise why it was refused, or (taken) its
-- user, redirect URI and PKCE verifier. The row lock makes two racing callbacks take it once.
WITH found AS (
    SELECT state_hash, session_hash, used_on, created_on
    FROM crm.oauth_states WHERE state_hash = %(state_hash)s
    FOR UPDATE
), taken AS (
    UPDATE crm.oauth_states s SET used_on = now()
    FROM found f
    WHERE s.state_hash = f.state_hash
      AND f.session_hash = %(session_hash)s
      AND f.used_on IS NULL
      AND f.created_on > now() - make_interval(secs => %(max_age)s)
    RETURNING s.user_id, s.redirect_uri, s.code_verifier
)
SELECT f.session_hash = %(session_hash)s AS same_session,
       f.used_on IS NOT NULL AS used,
       f.created_on <= now() - make_interval(secs => %(max_age)s) AS expired,
       t.user_id, t.redirect_uri, t.code_verifier
FROM found f LEFT JOIN taken t ON true
