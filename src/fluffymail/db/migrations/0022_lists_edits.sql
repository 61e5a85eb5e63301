-- Lists and corrections (issue 13): saved views and static lists of contacts, what a person
-- corrected by hand (kept from later extraction), and company merges with undo.
--
-- A list belongs to its owner and a workspace. A saved view ('view') is a filter, a sort and
-- the columns shown, applied to whoever opens it (shared with the workspace or not); a static
-- list ('static') holds chosen contacts of its owner. Contacts stay a user's own, so a static
-- list is never shared.

CREATE TABLE crm.contact_lists (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES crm.workspaces (id) ON DELETE CASCADE,
    owner_id     bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 80),
    kind         text NOT NULL CHECK (kind IN ('view', 'static')),
    filter       text NOT NULL DEFAULT '' CHECK (length(filter) <= 1000),
    sort         text NOT NULL DEFAULT 'strength'
                 CHECK (sort IN ('strength', 'last_interaction', 'name', 'tag')),
    columns      text[] NOT NULL DEFAULT '{}',
    shared       boolean NOT NULL DEFAULT false,
    created_on   timestamptz NOT NULL DEFAULT now(),
    updated_on   timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'view' OR (NOT shared AND filter = ''))
);
CREATE UNIQUE INDEX contact_lists_name_key ON crm.contact_lists (owner_id, lower(name));
CREATE INDEX contact_lists_workspace_idx ON crm.contact_lists (workspace_id) WHERE shared;

CREATE TABLE crm.contact_list_members (
    list_id    bigint NOT NULL REFERENCES crm.contact_lists (id) ON DELETE CASCADE,
    contact_id bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    added_by   bigint REFERENCES crm.users (id) ON DELETE SET NULL,
    added_on   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list_id, contact_id)
);
CREATE INDEX contact_list_members_contact_idx ON crm.contact_list_members (contact_id);

-- What a person set by hand: 'you' wins over what extraction finds, and extraction leaves it.
-- Title and phone corrections are contact_facts with source 'you'.
ALTER TABLE crm.contacts
    ADD COLUMN name_source text NOT NULL DEFAULT 'mail' CHECK (name_source IN ('mail', 'you')),
    ADD COLUMN company_source text NOT NULL DEFAULT 'mail'
        CHECK (company_source IN ('mail', 'you')),
    ADD COLUMN created_by_hand boolean NOT NULL DEFAULT false;

-- Company merges: the absorbed company's people move to the other and new mail from its
-- domain follows them; undo moves those people back.
ALTER TABLE crm.companies
    ADD COLUMN merged_into_id bigint REFERENCES crm.companies (id) ON DELETE SET NULL;

CREATE TABLE crm.company_merges (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    into_company_id bigint NOT NULL REFERENCES crm.companies (id) ON DELETE CASCADE,
    from_company_id bigint NOT NULL REFERENCES crm.companies (id) ON DELETE CASCADE,
    contact_ids     bigint[] NOT NULL,
    actor           text NOT NULL,
    merged_on       timestamptz NOT NULL DEFAULT now(),
    unmerged_on     timestamptz,
    unmerged_by     text
);
CREATE INDEX company_merges_user_idx ON crm.company_merges (user_id, into_company_id);
CREATE INDEX company_merges_from_idx ON crm.company_merges (from_company_id);

ALTER TABLE crm.activity DROP CONSTRAINT activity_subject_kind_check;
ALTER TABLE crm.activity ADD CONSTRAINT activity_subject_kind_check
    CHECK (subject_kind IN ('contact', 'company', 'tag', 'list'));
