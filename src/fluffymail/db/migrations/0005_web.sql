-- The web app (issue 7): password logins, admins, workspaces (teams of users), server-side
-- sessions and API tokens. Session and API tokens are stored only as SHA-256 hashes, so a
-- leaked table cannot be replayed.

ALTER TABLE crm.users
    ADD COLUMN password_hash text,                        -- argon2id; NULL: cannot log in
    ADD COLUMN is_admin      boolean NOT NULL DEFAULT false;

CREATE TABLE crm.workspaces (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    created_on timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crm.workspace_members (
    workspace_id bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    role         text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
    joined_on    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user_idx ON crm.workspace_members (user_id);

CREATE TABLE crm.sessions (
    token_hash   bytea PRIMARY KEY,                       -- sha256 of the cookie's token
    user_id      bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,                           -- echoed in forms, checked on POST
    created_on   timestamptz NOT NULL DEFAULT now(),
    last_seen_on timestamptz NOT NULL DEFAULT now(),
    expires_on   timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON crm.sessions (user_id);
CREATE INDEX sessions_expires_idx ON crm.sessions (expires_on);

CREATE TABLE crm.api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name <> ''),
    token_hash   bytea NOT NULL,                          -- sha256 of the bearer token
    created_on   timestamptz NOT NULL DEFAULT now(),
    last_used_on timestamptz,
    CONSTRAINT api_tokens_hash_key UNIQUE (token_hash),
    CONSTRAINT api_tokens_name_key UNIQUE (user_id, name)
);
