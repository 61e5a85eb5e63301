-- Teammates and idempotent API creates (issue 14).
--
-- An invite is a one-time link into a workspace with a role: only a hash of its token is
-- kept (the link is shown once), it expires (`expires_on`), and it is spent once
-- (`used_on`, `used_by`) or revoked by deletion. A user's workspace is now the one they
-- joined last (a personal one until they accept an invite), so `joined_on` is indexed.
--
-- An idempotency key remembers, per user, the first request sent with it (a hash of method,
-- path and body) and its response, for 24 hours: the same key and body answer the stored
-- response again; the same key with another body is refused. `status` is NULL while the
-- first request is still running.

CREATE TABLE crm.workspace_invites (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    role         text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    created_by   bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    created_on   timestamptz NOT NULL DEFAULT now(),
    expires_on   timestamptz NOT NULL,
    used_on      timestamptz,
    used_by      bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    CHECK (expires_on > created_on)
);
CREATE INDEX workspace_invites_workspace_idx ON crm.workspace_invites (workspace_id, created_on);

CREATE INDEX workspace_members_current_idx
    ON crm.workspace_members (user_id, joined_on DESC, workspace_id DESC);

CREATE TABLE crm.idempotency_keys (
    user_id      bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (key <> '' AND length(key) <= 255),
    request_hash bytea NOT NULL,
    status       integer,
    body         bytea,
    created_on   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON crm.idempotency_keys (created_on);
