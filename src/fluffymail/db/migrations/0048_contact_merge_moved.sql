-- A contact merge carries what the absorbed contact had besides its addresses to the contact
-- it is merged into: its tags, notes (and the mentions of it in notes), static-list
-- memberships, keep-in-touch cadence (with the cadence follow-up) and the name, company, title
-- and phone the user set by hand where the survivor has none (crm/contacts/sql/record_merge.sql).
-- The undo (record_unmerge.sql) gives back exactly that, so the merge records what moved and
-- what the survivor had before. Merges recorded before this migration moved nothing but
-- addresses: '{}' undoes nothing else.
ALTER TABLE crm.contact_merges ADD COLUMN moved jsonb NOT NULL DEFAULT '{}'::jsonb;
