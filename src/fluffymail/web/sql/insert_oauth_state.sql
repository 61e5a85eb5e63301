-- A Gmail sign-in started by a session: its state's hash and PKCE verifier, kept until the
-- callback uses it; sign-ins older than a day are dropped on the way.
WITH stale AS (
    DELETE FROM crm.oauth_states WHERE created_on < now() - interval '1 day'
)
INSERT INTO crm.oauth_states (state_hash, session_hash, user_id, redirect_uri, code_verifier)
VALUES (%(state_hash)s, %(session_hash)s, %(user_id)s, %(redirect_uri)s, %(code_verifier)s)
