-- Acting on relationships (issue 13): notes and tags on contacts and companies, and the
-- activity log of who changed what.
--
-- Tags belong to a workspace (its members share them); contacts and companies stay a user's
-- own, so tagging needs both the thing (by user) and the tag (by workspace). A note has an
-- author and a workspace and is about one contact or one company; mentioning a contact in it
-- (`@Maya`) links it to that contact too. The activity log is written in the transaction of
-- the change it records.

CREATE TABLE crm.tags (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 40),
    colour       text NOT NULL CHECK (colour IN ('grey', 'red', 'orange', 'yellow', 'green',
                                                 'teal', 'blue', 'purple', 'pink')),
    created_by   bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    created_on   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_name_key ON crm.tags (workspace_id, lower(name));

CREATE TABLE crm.contact_tags (
    contact_id bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    tag_id     bigint NOT NULL REFERENCES crm.tags (id) ON DELETE CASCADE,
    tagged_by  bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    tagged_on  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, tag_id)
);
CREATE INDEX contact_tags_tag_idx ON crm.contact_tags (tag_id, contact_id);

CREATE TABLE crm.company_tags (
    company_id bigint NOT NULL REFERENCES crm.companies (id) ON DELETE CASCADE,
    tag_id     bigint NOT NULL REFERENCES crm.tags (id) ON DELETE CASCADE,
    tagged_by  bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    tagged_on  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, tag_id)
);
CREATE INDEX company_tags_tag_idx ON crm.company_tags (tag_id, company_id);

CREATE TABLE crm.notes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    author_id    bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    contact_id   bigint REFERENCES crm.contacts (id) ON DELETE CASCADE,
    company_id   bigint REFERENCES crm.companies (id) ON DELETE CASCADE,
    body         text NOT NULL CHECK (btrim(body) <> '' AND octet_length(body) <= 100000),
    created_on   timestamptz NOT NULL DEFAULT now(),
    updated_on   timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(contact_id, company_id) = 1)
);
CREATE INDEX notes_contact_idx ON crm.notes (contact_id, created_on) WHERE contact_id IS NOT NULL;
CREATE INDEX notes_company_idx ON crm.notes (company_id, created_on) WHERE company_id IS NOT NULL;

CREATE TABLE crm.note_mentions (
    note_id    bigint NOT NULL REFERENCES crm.notes (id) ON DELETE CASCADE,
    contact_id bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (note_id, contact_id)
);
CREATE INDEX note_mentions_contact_idx ON crm.note_mentions (contact_id);

CREATE TABLE crm.activity (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    actor_id     bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    subject_kind text NOT NULL CHECK (subject_kind IN ('contact', 'company', 'tag')),
    subject_id   bigint NOT NULL,
    action       text NOT NULL CHECK (action <> ''),
    detail       jsonb NOT NULL DEFAULT '{}',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activity_subject_idx ON crm.activity (subject_kind, subject_id, at DESC);
CREATE INDEX activity_workspace_idx ON crm.activity (workspace_id, at DESC);
