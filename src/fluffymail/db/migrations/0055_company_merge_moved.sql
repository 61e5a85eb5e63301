-- A company merge carries the absorbed company's notes and tags to the company it is merged
-- into, as a contact merge carries a contact's (0048): before, they stayed on the company the
-- merge hides, out of the survivor's page and of ?tag= (crm/corrections/sql/
-- company_record_merge.sql). The undo (company_record_unmerge.sql) gives back exactly what
-- moved, so the merge records it. Merges recorded before this migration moved only people:
-- '{}' undoes nothing else.
ALTER TABLE crm.company_merges ADD COLUMN moved jsonb NOT NULL DEFAULT '{}'::jsonb;
