-- Issue 12, section 5 (tell the user why): the user can add a person who wrote to them as a
-- contact, and change a connection's creation policy (`crm.connections.contact_policy`) on
-- mail already imported. `kept_on` marks a contact the user added, or that held the user's work
-- (notes, tags, a confirmation, a merge) when a stricter policy was applied: no policy change
-- ever hides it.
ALTER TABLE crm.contacts ADD COLUMN kept_on timestamptz;
