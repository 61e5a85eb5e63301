-- Issue 19: a connection's people pages (contacts/sql/policy_explain.sql, policy_waiting.sql)
-- counted the connection's mail when read: 165 ms and 438 ms p50 at 198k stored messages, ~3x
-- that at 1M, because every answer asked, link by link, "is this message in one of the
-- connection's folders?". The counts are now kept as the mail changes, by the triggers below:
--
--   crm.connection_totals         per connection: its messages and its automated ones, as
--                                 rows of changes summed when read (a row per statement that
--                                 changed them, so concurrent batches never wait on one row;
--                                 crm.compact_connection_totals folds them, at a sync's end);
--   crm.connection_correspondents per connection and address: the messages the address wrote
--                                 (`received_from` links), was written (`sent_to`), any link,
--                                 and the latest message it wrote.
--
-- A message counts once per connection however many of its folders hold it. It enters a
-- connection with its first folder row there and leaves with its last: the folder triggers
-- count it in or out then, with the links and automated flag it has at that moment; the link
-- and automated triggers count a change for every connection that holds the message at that
-- moment. Either order of two changes to one message gives the same counts. A message is
-- deleted (delete_unlinked_messages.sql) only once no folder holds it, so its links and flag
-- were counted out with its last folder row; only a connection being deleted deletes mail
-- still filed in it (delete_connection_batch.sql: those counts go with the connection, and
-- what its cascades leave uncounted is its own). Links are only inserted and deleted (an
-- UPDATE changes `visible` alone). The one race (extraction linking a message, uncommitted,
-- while another transaction moves that message into or out of a connection) is closed by the
-- user's extraction lock (lock_user.sql): extraction holds it shared; a folder change to a
-- message this transaction did not insert takes it exclusively before it reads the links,
-- so it sees every batch that committed.
CREATE TABLE crm.connection_totals (
    user_id bigint NOT NULL,
    connection_id bigint NOT NULL REFERENCES crm.connections (id) ON DELETE CASCADE,
    messages integer NOT NULL,
    automated integer NOT NULL
);
CREATE INDEX connection_totals_idx ON crm.connection_totals (user_id, connection_id);

CREATE TABLE crm.connection_correspondents (
    user_id bigint NOT NULL,
    connection_id bigint NOT NULL REFERENCES crm.connections (id) ON DELETE CASCADE,
    address text NOT NULL,
    received integer NOT NULL,   -- messages it wrote (its `received_from` links)
    sent integer NOT NULL,       -- messages written to it (`sent_to`)
    links integer NOT NULL,      -- links of any role
    last_received_on timestamptz,
    PRIMARY KEY (user_id, connection_id, address)
);

-- The messages with `received_from` links of more than one address (a From that lists
-- several): policy_waiting.sql counts such a message once for a person who owns two of them.
-- Kept by the links trigger below; a handful per mailbox.
CREATE TABLE crm.co_authored_messages (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL REFERENCES crm.messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, message_id)
);

-- The connections holding a message, from its own folder rows: the probe every "is it in
-- this connection?" uses (a condition on the connection's folders instead can make the
-- planner read a whole folder's rows per message).
CREATE FUNCTION crm.message_connections(p_message bigint) RETURNS bigint[]
    LANGUAGE sql STABLE
    RETURN ARRAY(SELECT f.connection_id FROM crm.message_folders mf
                 JOIN crm.folders f ON f.id = mf.folder_id
                 WHERE mf.message_id = p_message);

-- Add (sign +1) or remove (-1) the links of `messages` in `connections` (pairwise arrays), or,
-- with `links_only`, only the given links: apply the deltas, drop rows left with no link, and
-- re-read the latest message of an address whose latest may have gone.
CREATE FUNCTION crm.count_correspondents(
    p_connection bigint[], p_address text[], p_role text[], p_occurred timestamptz[],
    p_sign integer[]
) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO crm.connection_correspondents AS t
        (user_id, connection_id, address, received, sent, links, last_received_on)
    SELECT cn.user_id, d.connection_id, d.address,
           coalesce(sum(d.sign) FILTER (WHERE d.role = 'received_from'), 0),
           coalesce(sum(d.sign) FILTER (WHERE d.role = 'sent_to'), 0),
           sum(d.sign),
           max(d.occurred) FILTER (WHERE d.role = 'received_from' AND d.sign > 0)
    FROM unnest(p_connection, p_address, p_role, p_occurred, p_sign)
        AS d(connection_id, address, role, occurred, sign)
    JOIN crm.connections cn ON cn.id = d.connection_id
    GROUP BY cn.user_id, d.connection_id, d.address
    ORDER BY cn.user_id, d.connection_id, d.address   -- one lock order for concurrent batches
    ON CONFLICT (user_id, connection_id, address) DO UPDATE
    SET received = t.received + excluded.received, sent = t.sent + excluded.sent,
        links = t.links + excluded.links,
        last_received_on = greatest(t.last_received_on, excluded.last_received_on);
    IF NOT (-1 = ANY (p_sign)) THEN
        RETURN;
    END IF;
    DELETE FROM crm.connection_correspondents t
    USING (SELECT DISTINCT cn.user_id, d.connection_id, d.address
           FROM unnest(p_connection, p_address, p_sign) AS d(connection_id, address, sign)
           JOIN crm.connections cn ON cn.id = d.connection_id
           WHERE d.sign < 0) gone
    WHERE t.user_id = gone.user_id AND t.connection_id = gone.connection_id
      AND t.address = gone.address AND t.links <= 0;
    -- the latest message an address wrote, when the one removed may have been it
    UPDATE crm.connection_correspondents t
    SET last_received_on = (
        SELECT max(l.occurred_on) FROM crm.contact_links l
        WHERE l.user_id = t.user_id AND l.address = t.address AND l.role = 'received_from'
          AND t.connection_id = ANY (crm.message_connections(l.message_id)))
    FROM (SELECT cn.user_id, d.connection_id, d.address, max(d.occurred) AS occurred
          FROM unnest(p_connection, p_address, p_role, p_occurred, p_sign)
              AS d(connection_id, address, role, occurred, sign)
          JOIN crm.connections cn ON cn.id = d.connection_id
          WHERE d.sign < 0 AND d.role = 'received_from'
          GROUP BY cn.user_id, d.connection_id, d.address) gone
    WHERE t.user_id = gone.user_id AND t.connection_id = gone.connection_id
      AND t.address = gone.address AND gone.occurred >= t.last_received_on;
END
$$;

-- Whether a row this transaction can see was written by it (or one of its savepoints): a
-- visible row whose writer is still in progress can only be this transaction's own. `x` is
-- the 32-bit id; its epoch is the one that puts it within 2^31 of this transaction's.
CREATE FUNCTION crm.written_now(x xid) RETURNS boolean
    LANGUAGE sql VOLATILE
    RETURN coalesce((
        SELECT pg_xact_status(full_id::text::xid8) = 'in progress'
        FROM (SELECT CASE WHEN d > 2147483648 THEN d - 4294967296
                          WHEN d < -2147483648 THEN d + 4294967296
                          ELSE d END + now_id AS full_id
              FROM (SELECT now_id, ((now_id & ~(4294967295::bigint)) | x::text::bigint) - now_id AS d
                    FROM (SELECT pg_current_xact_id()::text::bigint AS now_id) c) e) f
        WHERE full_id > 0
    ), false);

-- The trigger functions below plan each statement for the batch at hand
-- (`plan_cache_mode = force_custom_plan`: a plan cached while the tables were small joined a
-- batch to the whole of `contact_links` by a hash, 1.6 s per batch in a 300k import), and
-- without JIT (before the first ANALYZE, a big table's estimates crossed JIT's threshold:
-- ~0.5 s of compiling per statement).

-- Messages that entered (+1) or left (-1) connections: their totals, then their links.
CREATE FUNCTION crm.count_connection_messages(
    p_connection bigint[], p_message bigint[], p_sign integer[]
) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_user bigint;
BEGIN
    -- a message this transaction did not insert may be being extracted right now: wait for
    -- those batches (and keep new ones out) so its links are all seen (see the header)
    FOR v_user IN
        SELECT DISTINCT w.user_id
        FROM (SELECT DISTINCT cn.user_id, m.xmin   -- a batch's rows share one writer
              FROM unnest(p_connection, p_message) AS d(connection_id, message_id)
              JOIN crm.connections cn ON cn.id = d.connection_id
              JOIN crm.messages m ON m.id = d.message_id) w
        WHERE NOT crm.written_now(w.xmin)
        ORDER BY 1
    LOOP
        PERFORM pg_advisory_xact_lock(5004, v_user::integer);
    END LOOP;
    INSERT INTO crm.connection_totals (user_id, connection_id, messages, automated)
    SELECT cn.user_id, d.connection_id, sum(d.sign),
           coalesce(sum(d.sign) FILTER (WHERE a.message_id IS NOT NULL), 0)
    FROM unnest(p_connection, p_message, p_sign) AS d(connection_id, message_id, sign)
    JOIN crm.connections cn ON cn.id = d.connection_id
    LEFT JOIN crm.message_automated a ON a.user_id = cn.user_id AND a.message_id = d.message_id
    GROUP BY cn.user_id, d.connection_id;
    PERFORM crm.count_correspondents(
        array_agg(d.connection_id), array_agg(l.address), array_agg(l.role),
        array_agg(l.occurred_on), array_agg(d.sign))
    FROM unnest(p_connection, p_message, p_sign) AS d(connection_id, message_id, sign)
    JOIN crm.contact_links l ON l.message_id = d.message_id
    HAVING count(*) > 0;
END
$$;

-- Folder rows added (+1) or removed (-1): which (connection, message) pairs flipped, counted.
CREATE FUNCTION crm.count_folder_changes(p_folder bigint[], p_message bigint[], p_delta integer[])
RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM crm.count_connection_messages(
        array_agg(ch.connection_id), array_agg(ch.message_id),
        array_agg(CASE WHEN n.held > 0 THEN 1 ELSE -1 END))
    FROM (SELECT f.connection_id, c.message_id, sum(c.delta) AS delta
          FROM unnest(p_folder, p_message, p_delta) AS c(folder_id, message_id, delta)
          JOIN crm.folders f ON f.id = c.folder_id   -- gone with its connection: nothing to keep
          GROUP BY f.connection_id, c.message_id) ch
    CROSS JOIN LATERAL (   -- the message's own folder rows (never a pass over a folder's)
        SELECT count(*) FILTER (WHERE f.connection_id = ch.connection_id) AS held
        FROM crm.message_folders mf
        JOIN crm.folders f ON f.id = mf.folder_id
        WHERE mf.message_id = ch.message_id) n
    WHERE (n.held > 0) <> (n.held - ch.delta > 0)   -- it entered or left the connection
    HAVING count(*) > 0;
END
$$;

-- The triggers below: an INSERT's or a DELETE's rows are its transition table `changed`,
-- +1 or -1 each (`crm.change_sign`); an UPDATE's are `removed` (-1) and `added` (+1). A
-- statement names only the transition tables its trigger has, so each branch runs only under
-- its own trigger.
CREATE FUNCTION crm.change_sign(op text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN CASE op WHEN 'DELETE' THEN -1 ELSE 1 END;

-- Folder rows added, removed or re-pointed.
CREATE FUNCTION crm.message_folders_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET jit = off
    SET plan_cache_mode = force_custom_plan
    AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM crm.count_folder_changes(array_agg(c.folder_id), array_agg(c.message_id),
                                         array_agg(c.delta))
        FROM (SELECT a.folder_id, a.message_id, 1 AS delta FROM added a
              UNION ALL
              SELECT r.folder_id, r.message_id, -1 FROM removed r) c
        HAVING count(*) > 0;
    ELSE
        PERFORM crm.count_folder_changes(array_agg(c.folder_id), array_agg(c.message_id),
                                         array_agg(crm.change_sign(TG_OP)))
        FROM changed c HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER message_folders_count_added AFTER INSERT ON crm.message_folders
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION crm.message_folders_changed();
CREATE TRIGGER message_folders_count_removed AFTER DELETE ON crm.message_folders
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION crm.message_folders_changed();
CREATE TRIGGER message_folders_count_moved AFTER UPDATE ON crm.message_folders
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION crm.message_folders_changed();

-- Links made (+1) or removed (-1): counted in every connection that holds their message now,
-- once per connection however many of its folders hold it.
CREATE FUNCTION crm.count_links(
    p_message bigint[], p_address text[], p_role text[], p_occurred timestamptz[],
    p_sign integer
) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM crm.count_correspondents(
        array_agg(c.connection_id), array_agg(c.address), array_agg(c.role),
        array_agg(c.occurred_on), array_agg(p_sign))
    FROM (SELECT DISTINCT h.connection_id, l.message_id, l.address, l.role, l.occurred_on
          FROM unnest(p_message, p_address, p_role, p_occurred)
              AS l(message_id, address, role, occurred_on)
          JOIN (SELECT m.message_id, unnest(crm.message_connections(m.message_id))
                FROM (SELECT DISTINCT unnest(p_message) AS message_id) m
               ) h (message_id, connection_id) ON h.message_id = l.message_id) c
    HAVING count(*) > 0;
END
$$;

-- The links trigger: counted (above), and a message that has (or no longer has)
-- `received_from` links of two addresses noted.
CREATE FUNCTION crm.contact_links_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET jit = off
    SET plan_cache_mode = force_custom_plan
    AS $$
BEGIN
    PERFORM crm.count_links(array_agg(l.message_id), array_agg(l.address),
                            array_agg(l.role), array_agg(l.occurred_on), crm.change_sign(TG_OP))
    FROM changed l HAVING count(*) > 0;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO crm.co_authored_messages (user_id, message_id)
        SELECT l.user_id, l.message_id
        FROM (SELECT DISTINCT a.message_id FROM changed a WHERE a.role = 'received_from') a
        JOIN crm.contact_links l ON l.message_id = a.message_id AND l.role = 'received_from'
        GROUP BY l.user_id, l.message_id
        HAVING count(*) > 1
        ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM crm.co_authored_messages c
        USING (SELECT DISTINCT r.user_id, r.message_id FROM changed r
               WHERE r.role = 'received_from') r
        WHERE c.user_id = r.user_id AND c.message_id = r.message_id
          AND (SELECT count(*) FROM crm.contact_links l
               WHERE l.message_id = r.message_id AND l.role = 'received_from') < 2;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER contact_links_count_added AFTER INSERT ON crm.contact_links
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION crm.contact_links_changed();
CREATE TRIGGER contact_links_count_removed AFTER DELETE ON crm.contact_links
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION crm.contact_links_changed();

-- A message marked automated (+1) or no longer (-1), in every connection that holds it now.
CREATE FUNCTION crm.message_automated_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET jit = off
    SET plan_cache_mode = force_custom_plan
    AS $$
BEGIN
    INSERT INTO crm.connection_totals (user_id, connection_id, messages, automated)
    SELECT a.user_id, h.connection_id, 0, crm.change_sign(TG_OP) * count(DISTINCT a.message_id)
    FROM changed a
    CROSS JOIN LATERAL unnest(crm.message_connections(a.message_id)) h (connection_id)
    GROUP BY a.user_id, h.connection_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER message_automated_count_added AFTER INSERT ON crm.message_automated
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION crm.message_automated_changed();
CREATE TRIGGER message_automated_count_removed AFTER DELETE ON crm.message_automated
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION crm.message_automated_changed();

-- Fold a connection's rows of changes into one (a sync's end). Rows added meanwhile by other
-- transactions are not seen by the DELETE and stay as they are.
CREATE FUNCTION crm.compact_connection_totals(p_user bigint, p_connection bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    WITH gone AS (
        DELETE FROM crm.connection_totals t
        WHERE t.user_id = p_user AND t.connection_id = p_connection
        RETURNING t.messages, t.automated
    )
    INSERT INTO crm.connection_totals (user_id, connection_id, messages, automated)
    SELECT p_user, p_connection, sum(g.messages), sum(g.automated)
    FROM gone g
    HAVING count(*) > 0;
END
$$;

-- 0045's index served only these pages' link-by-link counts (~71 bytes per stored message).
DROP INDEX crm.contact_links_people_idx;

-- What is there already.
INSERT INTO crm.connection_totals (user_id, connection_id, messages, automated)
SELECT cn.user_id, cn.id, count(DISTINCT mf.message_id), count(DISTINCT a.message_id)
FROM crm.connections cn
JOIN crm.folders f ON f.connection_id = cn.id
JOIN crm.message_folders mf ON mf.folder_id = f.id
LEFT JOIN crm.message_automated a ON a.user_id = cn.user_id AND a.message_id = mf.message_id
GROUP BY cn.user_id, cn.id;

INSERT INTO crm.connection_correspondents
    (user_id, connection_id, address, received, sent, links, last_received_on)
SELECT l.user_id, m.connection_id, l.address,
       count(*) FILTER (WHERE l.role = 'received_from'),
       count(*) FILTER (WHERE l.role = 'sent_to'),
       count(*),
       max(l.occurred_on) FILTER (WHERE l.role = 'received_from')
FROM (SELECT DISTINCT f.connection_id, mf.message_id
      FROM crm.message_folders mf JOIN crm.folders f ON f.id = mf.folder_id) m
JOIN crm.contact_links l ON l.message_id = m.message_id
GROUP BY l.user_id, m.connection_id, l.address;

INSERT INTO crm.co_authored_messages (user_id, message_id)
SELECT l.user_id, l.message_id FROM crm.contact_links l
WHERE l.role = 'received_from'
GROUP BY l.user_id, l.message_id
HAVING count(*) > 1;
