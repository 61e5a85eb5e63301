-- Issue 19: the fan-out rule (a person address that is the only To/Cc of mail the user got
-- without being named, from several senders, is a list) was checked by counting, for every
-- sole recipient of a batch, all of that address's mail: each batch re-read the whole history
-- of its recipients, 3 s of a 500-message batch at 66k messages and growing with the mailbox
-- (quadratic over an import). Extraction now records the evidence as it goes, one row per
-- message that counts (its sole To/Cc address and its sender, '' when it has none), at most
-- three per address and sender (`groups.FANOUT_MIN_MESSAGES`: all the rule counts; once an
-- address qualifies it is a group for good), and the check reads at most a few index entries
-- per address (contacts/sql/fanout_candidates.sql). A row goes with its message; a newly
-- known alias or delegate drops the rows of the mail that names it
-- (contacts/sql/fanout_evidence_forget.sql).
CREATE TABLE crm.fanout_evidence (
    user_id    bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    address    text   NOT NULL,
    sender     text   NOT NULL,
    message_id bigint NOT NULL REFERENCES crm.messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, address, sender, message_id)
);
CREATE INDEX fanout_evidence_message_idx ON crm.fanout_evidence (message_id);

-- The evidence of the mail extracted so far, as the old check counted it.
WITH me AS (
    SELECT id AS user_id, lower(email) AS address FROM crm.users
    UNION SELECT user_id, lower(address) FROM crm.user_aliases
    UNION SELECT user_id, lower(address) FROM crm.mailbox_senders
), evidence AS (
    SELECT DISTINCT m.user_id, p.address, lower(coalesce(m.from_address, '')) AS sender, m.id
    FROM crm.message_participants p
    JOIN crm.messages m ON m.id = p.message_id
    WHERE p.role IN ('to', 'cc')
      AND m.processed_on IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM me WHERE me.user_id = m.user_id
                                         AND me.address = lower(coalesce(m.from_address, '')))
      AND NOT EXISTS (SELECT 1 FROM crm.message_participants o
                      WHERE o.message_id = m.id AND o.role IN ('to', 'cc')
                        AND o.address <> p.address)
      AND NOT EXISTS (SELECT 1 FROM crm.message_participants o
                      JOIN me ON me.user_id = m.user_id AND me.address = lower(o.address)
                      WHERE o.message_id = m.id AND o.role IN ('to', 'cc', 'bcc'))
)
INSERT INTO crm.fanout_evidence (user_id, address, sender, message_id)
SELECT user_id, address, sender, id
FROM (SELECT e.*, row_number() OVER (PARTITION BY user_id, address, sender ORDER BY id) AS n
      FROM evidence e) ranked
WHERE n <= 3
ON CONFLICT DO NOTHING;
