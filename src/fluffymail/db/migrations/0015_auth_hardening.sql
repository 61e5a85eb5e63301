-- Issue 15, account security:
-- * a Gmail OAuth sign-in is kept server-side for the session that started it (the state's
--   hash, its PKCE code verifier, one use, short life), so Google's answer can only complete in
--   that same logged-in browser. Logging out (deleting the session) drops its pending sign-ins.
-- * failed logins are counted per account and per client address, across web processes, so
--   guessing passwords meets growing delays.
-- * API tokens may expire.

CREATE TABLE crm.oauth_states (
    state_hash    bytea PRIMARY KEY,                      -- sha256 of the `state` sent to Google
    session_hash  bytea NOT NULL REFERENCES crm.sessions (token_hash) ON DELETE CASCADE,
    user_id       bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    redirect_uri  text NOT NULL,
    code_verifier text NOT NULL,                          -- PKCE: only its S256 challenge left
    created_on    timestamptz NOT NULL DEFAULT now(),
    used_on       timestamptz                             -- set once, by the callback
);
CREATE INDEX oauth_states_session_idx ON crm.oauth_states (session_hash);
CREATE INDEX oauth_states_created_idx ON crm.oauth_states (created_on);

CREATE TABLE crm.login_throttle (
    key            text PRIMARY KEY,                      -- 'account:<email>' or 'address:<ip>'
    failures       integer NOT NULL CHECK (failures > 0),
    last_failed_on timestamptz NOT NULL,
    locked_until   timestamptz                            -- refused without checking until then
);

ALTER TABLE crm.api_tokens ADD COLUMN expires_on timestamptz;  -- NULL: never
