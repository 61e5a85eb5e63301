-- Summaries where a person will read them (issue 19): the contact pages a user opened, so a
-- relationship outside the user's top ones gets its summary once someone looks at it.
CREATE TABLE crm.contact_views (
    user_id bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    contact_id bigint NOT NULL REFERENCES crm.contacts (id) ON DELETE CASCADE,
    viewed_on timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, contact_id)
);
CREATE INDEX contact_views_contact_idx ON crm.contact_views (contact_id);
