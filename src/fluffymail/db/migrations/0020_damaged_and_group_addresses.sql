-- Damaged and group addresses (issue 12, section 2).
--
-- An address an old mail system damaged (`.williams@enron.com`, `carol.st.@enron.com`,
-- `k..allen@enron.com`) is kept as written, with its defect noted, instead of being dropped
-- with its people. A contact is a person or a group (a distribution list: `DL-...`, a display
-- name naming a team or list, an address that fans mail out to the user); groups are never
-- among a person's top contacts and have a page of their own. `kind_reason` says why.

ALTER TABLE crm.contact_addresses
    ADD COLUMN defect text
        CHECK (defect IN ('leading_dot', 'trailing_dot', 'doubled_dot'));

UPDATE crm.contact_addresses SET defect = 'doubled_dot'
WHERE split_part(address, '@', 1) LIKE '%..%';

ALTER TABLE crm.contacts
    ADD COLUMN kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'group')),
    ADD COLUMN kind_reason text;

-- Existing distribution lists by their address alone (the rule `contacts.groups` applies to new
-- mail, written once here): the other group rules need the mail and apply as it is extracted.
UPDATE crm.contacts SET kind = 'group', kind_reason = 'dl_address'
WHERE split_part(primary_address, '@', 1) ~* '(^|[._+-])(dl|dist|distlist|distribution)([._+-]|$)';
