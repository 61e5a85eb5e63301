-- Relationship analysis bookkeeping (issue 6): how many contact links each contact's stored
-- state has folded in, kept also for contacts whose links made no interaction (co-recipients).
-- An incremental run compares it with the links the contact owns below the cursor; a
-- difference (a merge or unmerge moved addresses, late extraction, an alias repair) means the
-- state no longer describes the contact's mail, and that contact is rebuilt from scratch.
CREATE TABLE crm.relationship_folds (
    user_id    bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    contact_id bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    links      integer NOT NULL CHECK (links > 0),
    PRIMARY KEY (user_id, contact_id)
);
CREATE INDEX relationship_folds_contact_idx ON crm.relationship_folds (contact_id);
