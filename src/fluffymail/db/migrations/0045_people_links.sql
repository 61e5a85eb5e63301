-- Issue 19: a connection's people pages (contacts/sql/policy_explain.sql, policy_waiting.sql)
-- walked every message of the connection into its links and contacts: 2.8 s and 1.4 s at 198k
-- stored messages (300k folder rows, 510k links), growing with the mailbox. They now start
-- from the user's people and ask, per address, for a link of one role whose message is in the
-- connection: the first one answers "wrote" or "was written to", and a role the address never
-- had answers without reading any of its other links. The index holds only the two roles they
-- ask about (a cc is a third of the links or more) and the link's date, so the people who wrote
-- are counted from it alone (contact_links is vacuumed after a bulk load, jobs/planner_stats).
CREATE INDEX contact_links_people_idx ON crm.contact_links (user_id, address, role, message_id)
    INCLUDE (occurred_on) WHERE role IN ('received_from', 'sent_to');
