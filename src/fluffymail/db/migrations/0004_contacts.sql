-- Contacts (issue 5): people and companies per user, derived from stored mail by the
-- extract-contacts job, enriched by enrich-contact. Every count comes from contact_links
-- (one row per message, address and role), so re-running extraction changes nothing.

-- Creation policy per connection (Twenty / Affinity): who becomes a visible contact.
ALTER TABLE crm.connections
    ADD COLUMN contact_policy text NOT NULL DEFAULT 'sent'
        CHECK (contact_policy IN ('sent', 'sent_and_received', 'none'));

-- Why extraction created no contacts from a message (crm/contacts/automated.py reasons);
-- NULL for person-to-person mail. Extraction updates every message once (this column and
-- processed_on, neither indexed): free space per page lets that be a HOT update.
ALTER TABLE crm.messages ADD COLUMN automated_reason text;
ALTER TABLE crm.messages SET (fillfactor = 85);

-- Addresses that are the user: the owner's address, From of mail found in sent folders,
-- provider send-as aliases. They never become contacts.
CREATE TABLE crm.user_aliases (
    user_id    bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    address    text NOT NULL,
    source     text NOT NULL CHECK (source IN ('owner', 'sent_folder', 'provider', 'user')),
    message_id bigint REFERENCES crm.messages (id) ON DELETE SET NULL,   -- the evidence
    created_on timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, address)
);

CREATE TABLE crm.companies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    domain      text NOT NULL,   -- registrable domain (Public Suffix List): bbc.co.uk
    name        text NOT NULL,
    name_source text NOT NULL DEFAULT 'domain' CHECK (name_source IN ('domain', 'signature', 'user')),
    website     text,
    created_on  timestamptz NOT NULL DEFAULT now(),
    updated_on  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT companies_domain_key UNIQUE (user_id, domain)
);

CREATE TABLE crm.contacts (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id              bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    primary_address      text NOT NULL,
    name                 text NOT NULL DEFAULT '',
    first_name           text NOT NULL DEFAULT '',
    last_name            text NOT NULL DEFAULT '',
    name_quality         smallint NOT NULL DEFAULT 0,   -- names.NameQuality; 0: no name
    identity_key         text,   -- merge evidence: "first last@work-domain", FULL names only
    company_id           bigint REFERENCES crm.companies (id) ON DELETE SET NULL,
    is_internal          boolean NOT NULL DEFAULT false,   -- the user's own domain: a colleague
    suppressed_reason    text,                          -- 'self', 'role', 'user': never shown
    -- visible under the creation policy; false = counted only (appears when the user writes)
    created              boolean NOT NULL DEFAULT false,
    visible_on           timestamptz,
    merged_into_id       bigint REFERENCES crm.contacts (id) ON DELETE SET NULL,
    sent_to_count        integer NOT NULL DEFAULT 0,   -- messages the user sent them (To)
    received_from_count  integer NOT NULL DEFAULT 0,   -- messages they sent the user
    cc_count             integer NOT NULL DEFAULT 0,   -- cc'd, or a co-recipient
    first_interaction_on timestamptz,
    last_interaction_on  timestamptz,
    created_on           timestamptz NOT NULL DEFAULT now(),
    updated_on           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contacts_primary_address_key UNIQUE (user_id, primary_address)
);
CREATE INDEX contacts_identity_idx ON crm.contacts (user_id, identity_key)
    WHERE identity_key IS NOT NULL;
CREATE INDEX contacts_merged_into_idx ON crm.contacts (merged_into_id) WHERE merged_into_id IS NOT NULL;

-- Every address of a contact; one contact per address and user.
CREATE TABLE crm.contact_addresses (
    user_id       bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    address       text NOT NULL,
    contact_id    bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    undeliverable boolean NOT NULL DEFAULT false,   -- a delivery-status report bounced it
    created_on    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, address)
);
CREATE INDEX contact_addresses_contact_idx ON crm.contact_addresses (contact_id);

-- One row per (message, address, role): the idempotency key of every count and name vote.
-- role: sent_to / cc (on the user's own mail), received_from, cc (co-recipient), reply_to.
CREATE TABLE crm.contact_links (
    message_id   bigint NOT NULL REFERENCES crm.messages (id) ON DELETE CASCADE,
    address      text NOT NULL,
    role         text NOT NULL CHECK (role IN ('sent_to', 'received_from', 'cc', 'reply_to')),
    user_id      bigint NOT NULL,
    display_name text NOT NULL DEFAULT '',
    occurred_on  timestamptz,
    visible      boolean NOT NULL,   -- the connection's policy creates a contact from this link
    PRIMARY KEY (message_id, address, role)
);
CREATE INDEX contact_links_address_idx ON crm.contact_links (user_id, address);

-- Display names seen per address, with the number of links that used them (best_name input).
CREATE TABLE crm.contact_name_votes (
    user_id      bigint NOT NULL,
    address      text NOT NULL,
    display_name text NOT NULL,
    votes        integer NOT NULL,
    PRIMARY KEY (user_id, address, display_name)
);

-- Addresses a delivery-status report said bounce (also flagged on contact_addresses).
CREATE TABLE crm.bounced_addresses (
    user_id    bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    address    text NOT NULL,
    message_id bigint REFERENCES crm.messages (id) ON DELETE SET NULL,
    bounced_on timestamptz,
    PRIMARY KEY (user_id, address)
);

-- Merges are recorded and reversible: unmerge moves `addresses` back to `from_contact_id`.
CREATE TABLE crm.contact_merges (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    into_contact_id bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    from_contact_id bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    addresses       text[] NOT NULL,
    reason          text NOT NULL,    -- 'same_name_same_company', 'user'
    actor           text NOT NULL,    -- 'extract-contacts' or the user's email
    merged_on       timestamptz NOT NULL,
    unmerged_on     timestamptz,
    unmerged_by     text
);
CREATE INDEX contact_merges_pair_idx ON crm.contact_merges (user_id, into_contact_id, from_contact_id);
CREATE INDEX contact_merges_from_idx ON crm.contact_merges (from_contact_id);

-- Enriched fields with their provenance; the newest observation of (field, value) wins.
CREATE TABLE crm.contact_facts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id        bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    field             text NOT NULL,   -- phone, title, company, website, linkedin, twitter, github, postal_address, gravatar
    value             text NOT NULL,
    kind              text NOT NULL DEFAULT '',   -- phone: office / mobile / fax / unknown
    source            text NOT NULL,   -- 'signature' or a provider name
    source_message_id bigint REFERENCES crm.messages (id) ON DELETE SET NULL,
    confidence        real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    observed_on       timestamptz NOT NULL,
    is_current        boolean NOT NULL DEFAULT true,   -- false: superseded by a newer value
    CONSTRAINT contact_facts_value_key UNIQUE (contact_id, field, value)
);
CREATE INDEX contact_facts_current_idx ON crm.contact_facts (contact_id, field) WHERE is_current;
