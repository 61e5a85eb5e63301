-- Issue 12, section 1 (self, aliases and delegates): one sent-folder message no longer makes
-- an address the user's. Every address seen sending from the user's sent folders is kept here
-- with its evidence, and what it was decided to be: one of the user's own addresses
-- ('alias', also in crm.user_aliases) or a different person sending from the user's mailbox
-- ('delegate', a contact in their own right). `decided_by` 'user' is the user's confirmation or
-- rejection on the "You" page: the rule never overrides it.
CREATE TABLE crm.mailbox_senders (
    user_id       bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    address       text NOT NULL,
    display_name  text NOT NULL DEFAULT '',
    sent_messages integer NOT NULL DEFAULT 0,   -- sent-folder messages from this address
    sent_total    integer NOT NULL DEFAULT 0,   -- all sent-folder messages of the user then
    kind          text NOT NULL CHECK (kind IN ('alias', 'delegate')),
    decided_by    text NOT NULL CHECK (decided_by IN ('rule', 'user')),
    reason        text NOT NULL DEFAULT '',
    updated_on    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, address)
);

-- Aliases learned the old way (any single sent-folder message) are kept until the user's next
-- extraction reviews them (`contacts.service.review_identity`): an address that fails the new
-- rule is then released and its mail re-attributed. They are marked so the review finds them.
INSERT INTO crm.mailbox_senders (user_id, address, kind, decided_by, reason)
SELECT user_id, address, 'alias', 'rule', 'legacy: one sent-folder message'
FROM crm.user_aliases WHERE source = 'sent_folder'
ON CONFLICT DO NOTHING;
