-- Issue 19: pages a person opens answered in seconds at 1M messages (bench/web_routes_bench.py).
--
-- 1. The groups page counted, for every group, the messages addressed to it and the people
--    who wrote them from every To/Cc participant row of its addresses, each joined to its
--    message for the owner and the sender: 1.26M rows for 255 groups, 9 s (crm/groups/sql/
--    list_groups.sql); a group's own page 130 ms (group_members.sql). Those counts are now
--    kept as the mail changes, per recipient address and sender:
--
--      crm.recipient_senders  per user, To/Cc address and sender (lower(From), '' for none):
--                             the user's messages from that sender with the address in To or
--                             Cc (a message counts once however often it lists the address),
--                             and the greatest From name seen.
--
--    Participants are written only with their message, after it (crm/mail/repo.py's store),
--    and deleted only with it (crm.delete_message_participants, below); neither changes
--    afterwards, nor does a message's owner or From. So the insert trigger counts a message in
--    with its participants, and the message's delete counts it out before its participants
--    go. A group with several addresses adds up its addresses' counts: a message addressed to
--    two of them counts twice (2 of 255 groups at 1M, 819 of 1.26M messages).
--
-- 2. Groups named in headers (named_groups.sql) scanned every message of the user for
--    `extra_headers ? 'address_groups'` (430 ms at 1M, where no message had any): a partial
--    index holds the few that do.
--
-- 3. A contact's timeline (web/sql/contact_timeline.sql) read every message of the contact
--    to sort them by date: 110 ms for a person with 13,000 (and 250 ms for a group of 51,000).
--    It now chooses the page from the links, whose date is the message's: the links' address
--    index also holds their role and date (an index-only scan; message_filter_ids.sql reads
--    the role too), and the few links migration 0034 left with a future date where it cleared
--    the message's take the message's date.
--
-- 4. "With attachments" walked the user's whole search table in date order when few messages
--    have one (260 ms for the page and as much for its count at 1M, where none had any): a
--    partial index of the search rows with an attachment, in the list's order.

-- no mail is stored or deleted while the counts start: the backfill below sees it all
LOCK TABLE crm.messages, crm.message_participants IN SHARE MODE;

-- No foreign key to the user: a user's deletion deletes their mail, whose trigger counts it
-- out to nothing (a cascade from the user would delete these rows first, and counting out
-- would then insert them again, for a user no longer there).
CREATE TABLE crm.recipient_senders (
    user_id bigint NOT NULL,
    recipient text NOT NULL,
    sender text NOT NULL,
    messages integer NOT NULL,
    name text NOT NULL,
    PRIMARY KEY (user_id, recipient, sender)
);

-- Rows are written in one order, so that concurrent batches of one user wait rather than
-- deadlock. Planned for the batch at hand, without JIT (as 0046's triggers).
CREATE FUNCTION crm.message_participants_added() RETURNS trigger
    LANGUAGE plpgsql
    SET jit = off
    SET plan_cache_mode = force_custom_plan
    AS $$
BEGIN
    INSERT INTO crm.recipient_senders AS t (user_id, recipient, sender, messages, name)
    SELECT m.user_id, p.address, coalesce(lower(m.from_address), ''), count(*),
           coalesce(max(m.from_name), '')
    FROM (SELECT DISTINCT message_id, address FROM added WHERE role IN ('to', 'cc')) p
    JOIN crm.messages m ON m.id = p.message_id
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (user_id, recipient, sender) DO UPDATE
    SET messages = t.messages + excluded.messages, name = greatest(t.name, excluded.name);
    RETURN NULL;
END
$$;

CREATE TRIGGER message_participants_count_added AFTER INSERT ON crm.message_participants
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION crm.message_participants_added();

-- A message's participants go with it (0012). Its To/Cc rows are counted out first, with the
-- owner and sender of the deleted message (`deleted`: crm.messages no longer has it); a row
-- left at no message goes, and one whose greatest name may have gone reads it again from the
-- mail left (as 0046 re-reads an address's latest message).
CREATE OR REPLACE FUNCTION crm.delete_message_participants() RETURNS trigger
LANGUAGE plpgsql
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    INSERT INTO crm.recipient_senders AS t (user_id, recipient, sender, messages, name)
    SELECT d.user_id, p.address, coalesce(lower(d.from_address), ''), -count(*), ''
    FROM (SELECT DISTINCT p.message_id, p.address
          FROM crm.message_participants p JOIN deleted d ON d.id = p.message_id
          WHERE p.role IN ('to', 'cc')) p
    JOIN deleted d ON d.id = p.message_id
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (user_id, recipient, sender) DO UPDATE SET messages = t.messages + excluded.messages;
    DELETE FROM crm.recipient_senders t
    USING (SELECT DISTINCT d.user_id, p.address, coalesce(lower(d.from_address), '') AS sender
           FROM crm.message_participants p JOIN deleted d ON d.id = p.message_id
           WHERE p.role IN ('to', 'cc')) gone
    WHERE t.user_id = gone.user_id AND t.recipient = gone.address AND t.sender = gone.sender
      AND t.messages <= 0;
    UPDATE crm.recipient_senders t
    SET name = (SELECT coalesce(max(m.from_name), '')
                FROM crm.message_participants p
                JOIN crm.messages m ON m.id = p.message_id
                WHERE p.address = t.recipient AND p.role IN ('to', 'cc')
                  AND m.user_id = t.user_id AND coalesce(lower(m.from_address), '') = t.sender)
    FROM (SELECT d.user_id, p.address, coalesce(lower(d.from_address), '') AS sender,
                 max(d.from_name) AS name
          FROM crm.message_participants p JOIN deleted d ON d.id = p.message_id
          WHERE p.role IN ('to', 'cc')
          GROUP BY 1, 2, 3) gone
    WHERE t.user_id = gone.user_id AND t.recipient = gone.address AND t.sender = gone.sender
      AND gone.name >= t.name;
    DELETE FROM crm.message_participants p USING deleted d WHERE p.message_id = d.id;
    RETURN NULL;
END
$$;

-- The mail already stored.
INSERT INTO crm.recipient_senders (user_id, recipient, sender, messages, name)
SELECT m.user_id, p.address, coalesce(lower(m.from_address), ''), count(*),
       coalesce(max(m.from_name), '')
FROM (SELECT DISTINCT message_id, address FROM crm.message_participants
      WHERE role IN ('to', 'cc')) p
JOIN crm.messages m ON m.id = p.message_id
GROUP BY 1, 2, 3;

CREATE INDEX messages_address_groups_idx ON crm.messages (user_id)
    WHERE extra_headers ? 'address_groups';

CREATE INDEX message_search_attachment_idx
    ON crm.message_search (user_id, date DESC NULLS LAST, message_id DESC)
    WHERE has_attachment;

UPDATE crm.contact_links l SET occurred_on = m.date
FROM crm.messages m
WHERE m.id = l.message_id AND l.occurred_on IS DISTINCT FROM m.date;

CREATE INDEX contact_links_address_role_idx ON crm.contact_links (user_id, address, message_id)
    INCLUDE (role, occurred_on);
DROP INDEX crm.contact_links_address_idx;
ALTER INDEX crm.contact_links_address_role_idx RENAME TO contact_links_address_idx;
