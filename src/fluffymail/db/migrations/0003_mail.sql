-- Mail ingestion (issue 4): users, mail connections and their folders, deduplicated messages,
-- where each message was seen, participants and threads. Raw messages are not kept (see
-- src/fluffymail/crm/mail/README.md).

CREATE SCHEMA crm;

CREATE TABLE crm.users (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email                     text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name                      text NOT NULL DEFAULT '',
    created_on                timestamptz NOT NULL DEFAULT now(),
    relationships_analyzed_on timestamptz,  -- set by analyze-relationships (placeholder, issue 6)
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE crm.connections (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('gmail', 'imap', 'mbox', 'maildir')),
    -- what the connection reads: an absolute path (files), an account address (imap/gmail)
    source             text NOT NULL,
    display_name       text NOT NULL DEFAULT '',
    status             text NOT NULL DEFAULT 'ok'
                       CHECK (status IN ('ok', 'syncing', 'failed', 'needs_reauth')),
    last_error         text,
    last_error_on      timestamptz,
    last_synced_on     timestamptz,
    sync_started_on    timestamptz,
    seen_count         bigint NOT NULL DEFAULT 0,   -- messages read by the current/last sync
    stored_count       bigint NOT NULL DEFAULT 0,   -- of which new (not duplicates)
    remaining_estimate bigint,                      -- the source's estimate of what is left
    cursor             jsonb,                       -- the source's whole sync position
    credentials        bytea,                       -- Fernet token (crm/secrets.py); never logged
    created_on         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT connections_source_key UNIQUE (user_id, kind, source)
);

CREATE TABLE crm.folders (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint NOT NULL REFERENCES crm.connections (id) ON DELETE CASCADE,
    name          text NOT NULL,
    cursor        jsonb,   -- this folder's part of the connection cursor (offset, UIDVALIDITY + UID…)
    synced_on     timestamptz,
    CONSTRAINT folders_name_key UNIQUE (connection_id, name)
);

CREATE TABLE crm.threads (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    key           text NOT NULL,   -- crm.messages.threading.thread_key of its first message
    subject       text NOT NULL DEFAULT '',
    first_date    timestamptz,
    last_date     timestamptz,
    message_count integer NOT NULL DEFAULT 0,
    CONSTRAINT threads_key_key UNIQUE (user_id, key)
);

-- Every key under which a thread is known ("subj:…", "ref:<message-id>", "prov:…"), so a
-- reply that names its root by Message-ID lands in the root's thread.
CREATE TABLE crm.thread_keys (
    user_id   bigint NOT NULL,   -- = the thread's user (no second foreign key to check per row)
    key       text NOT NULL,
    thread_id bigint NOT NULL REFERENCES crm.threads (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE crm.messages (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    dedup_key          text NOT NULL,   -- "fp:<sha256 of From, Date, Subject, body>"
    message_id         text,            -- the Message-ID header, normalised (not unique)
    thread_id          bigint REFERENCES crm.threads (id) ON DELETE SET NULL,
    from_address       text,
    from_name          text,
    date               timestamptz,
    subject            text NOT NULL DEFAULT '',
    snippet            text NOT NULL DEFAULT '',
    body_text          text NOT NULL DEFAULT '',
    content_type       text,
    list_id            text,
    list_unsubscribe   text,
    precedence         text,
    auto_submitted     text,
    return_path        text,
    in_reply_to        text,
    "references"       text[] NOT NULL DEFAULT '{}',
    extra_headers      jsonb,           -- X-From/X-To/X-cc/X-bcc, Sender, X-GM-THRID when present
    size               integer NOT NULL DEFAULT 0,
    has_calendar       boolean NOT NULL DEFAULT false,
    is_delivery_report boolean NOT NULL DEFAULT false,
    problems           text[] NOT NULL DEFAULT '{}',
    created_on         timestamptz NOT NULL DEFAULT now(),
    processed_on       timestamptz,     -- set by extract-contacts
    CONSTRAINT messages_dedup_key UNIQUE (user_id, dedup_key)
);
CREATE INDEX messages_user_date_idx ON crm.messages (user_id, date);
CREATE INDEX messages_thread_idx ON crm.messages (thread_id);
CREATE INDEX messages_message_id_idx ON crm.messages (user_id, message_id);

-- Where a message was seen: one row per (folder, provider id), so a message present in two
-- folders (or twice in one mbox) is stored once and recorded everywhere it was found.
CREATE TABLE crm.message_folders (
    folder_id  bigint NOT NULL REFERENCES crm.folders (id) ON DELETE CASCADE,
    source_id  text NOT NULL,   -- mbox "<file>:<offset>", Maildir unique name, IMAP "<uidvalidity>:<uid>", Gmail id
    message_id bigint NOT NULL REFERENCES crm.messages (id) ON DELETE CASCADE,
    PRIMARY KEY (folder_id, source_id)
);
CREATE INDEX message_folders_message_idx ON crm.message_folders (message_id);

CREATE TABLE crm.message_participants (
    message_id   bigint NOT NULL REFERENCES crm.messages (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    role         text NOT NULL CHECK (role IN ('from', 'sender', 'to', 'cc', 'bcc', 'reply_to')),
    position     integer NOT NULL,
    address      text NOT NULL,
    display_name text NOT NULL DEFAULT '',
    valid        boolean NOT NULL DEFAULT true,   -- false: a Notes name / Exchange DN kept for its name
    PRIMARY KEY (message_id, role, position)
);
CREATE INDEX message_participants_address_idx ON crm.message_participants (address);
