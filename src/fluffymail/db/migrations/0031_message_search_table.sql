-- Mail search reads a narrow side table rather than the wide message rows (issue 14's bar:
-- p95 < 200 ms over 1M messages). A search reads one row per candidate message (to rank it, to
-- check a phrase's word positions, to put it in date order); in crm.messages that row also
-- carries the body, the headers and the rest, about two rows per 8 kB page, so a word in 1 % of
-- the mail read ~10,000 pages. Here a row is the vector, its date and what the filters need.
--
-- Written by triggers on crm.messages, so every writer (the store's COPY, the tests' inserts, a
-- future reparse) keeps it in step in its own transaction: statement-level for inserts and
-- deletes (one INSERT ... SELECT per COPY, as 0012 does for participants), row-level for the
-- rare update of a searched column (0034's future dates).
--
-- No foreign key to crm.messages: the delete trigger removes the rows in the same statement
-- (cascades from crm.users included), and keyed (user_id, message_id) the table keeps the
-- distribution-key rule (tests/integration/test_distribution_keys.py).
-- No message is written while the table is filled (the triggers come last in this transaction):
-- a row committed meanwhile would have no search row. Reads go on.
LOCK TABLE crm.messages IN SHARE MODE;

CREATE TABLE crm.message_search (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    date timestamp with time zone,
    has_attachment boolean NOT NULL,
    vector tsvector NOT NULL,
    pairs smallint[] NOT NULL,
    PRIMARY KEY (user_id, message_id)
);

-- As 0025's column was: compressed in the row, never moved out to TOAST (a TOAST lookup per
-- candidate made the date-ordered search 3-4x slower), lz4 where the server has it.
ALTER TABLE crm.message_search ALTER COLUMN vector SET STORAGE MAIN;
DO $$
BEGIN
    ALTER TABLE crm.message_search ALTER COLUMN vector SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available in this PostgreSQL build; the search vector keeps pglz';
END
$$;

-- The vector of 0025 unchanged: subject (A), the people (B), the first 2,000 characters of the
-- body (C), the 'simple' configuration.
CREATE FUNCTION crm.message_vector(
    subject text, from_name text, from_address text, recipients text, body_text text
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN setweight(to_tsvector('simple'::regconfig, subject), 'A')
    || setweight(to_tsvector('simple'::regconfig,
                             coalesce(from_name, '') || ' ' || coalesce(from_address, '') || ' '
                             || recipients), 'B')
    || setweight(to_tsvector('simple'::regconfig, left(body_text, 2000)), 'C');

-- `pairs`: a phrase's cheap pre-filter. A phrase of two common words ("gas price") has every
-- message holding both words as a candidate (13,553 of 1M in the bench) and must read each
-- one's vector for the word positions; `pairs` holds a 12-bit hash of each pair of adjacent
-- words of the vector (the same positions the phrase operator compares), GIN-indexed, so that
-- the candidates are only the messages that also hold the phrase's pairs (724 in the bench, 112
-- of them matches).
-- A superset, never a miss: the vector's own positions decide, the hash only narrows. 12 bits
-- rather than 16: 4,096 lists of messages compress better in the GIN index (on real mail, 866
-- rather than 1,253 bytes per message) for a few more false candidates.
-- hashtextextended because hash partitioning depends on it: it stays the same across
-- PostgreSQL versions (pg_upgrade keeps the stored hashes valid).
CREATE FUNCTION crm.word_pair(first text, second text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (hashtextextended(first || ' ' || second, 0) & 4095)::smallint;

CREATE FUNCTION crm.message_pairs(vector tsvector) RETURNS smallint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(
    SELECT DISTINCT crm.word_pair(w.lexeme, w.next)
    FROM (SELECT o.lexeme, o.position, lead(o.lexeme) OVER byposition AS next,
                 lead(o.position) OVER byposition AS next_position
          FROM (SELECT t.lexeme, unnest(t.positions) AS position FROM unnest(vector) t) o
          WINDOW byposition AS (ORDER BY o.position)) w
    WHERE w.next_position = w.position + 1
);

-- Existing mail keeps the vectors 0025 computed (copied, not computed again); the pairs are
-- computed from them.
INSERT INTO crm.message_search (user_id, message_id, date, has_attachment, vector, pairs)
SELECT user_id, id, date, has_attachment, search, crm.message_pairs(search)
FROM crm.messages;

CREATE INDEX message_search_vector_idx ON crm.message_search USING gin (vector);
CREATE INDEX message_search_pairs_idx ON crm.message_search USING gin (pairs);
-- Newest first, undated last, the id as tie-break: the order of messages_user_list_idx.
CREATE INDEX message_search_list_idx
    ON crm.message_search (user_id, date DESC NULLS LAST, message_id DESC);

DROP INDEX crm.messages_search_idx;
ALTER TABLE crm.messages DROP COLUMN search;

CREATE FUNCTION crm.message_search_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crm.message_search (user_id, message_id, date, has_attachment, vector, pairs)
    SELECT v.user_id, v.id, v.date, v.has_attachment, v.vector, crm.message_pairs(v.vector)
    FROM (SELECT n.user_id, n.id, n.date, n.has_attachment,
                 crm.message_vector(n.subject, n.from_name, n.from_address, n.recipients,
                                    n.body_text) AS vector
          FROM inserted n) v;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_search_insert
    AFTER INSERT ON crm.messages
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION crm.message_search_insert();

CREATE FUNCTION crm.message_search_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM crm.message_search s USING deleted d
    WHERE s.user_id = d.user_id AND s.message_id = d.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_search_delete
    AFTER DELETE ON crm.messages
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION crm.message_search_delete();

-- Row by row, and only when an UPDATE names a searched column: the frequent updates
-- (processed_on, problems, held_private) never reach it.
CREATE FUNCTION crm.message_search_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    words_changed boolean := (OLD.subject, OLD.from_name, OLD.from_address, OLD.recipients,
                              OLD.body_text)
        IS DISTINCT FROM (NEW.subject, NEW.from_name, NEW.from_address, NEW.recipients,
                          NEW.body_text);
    new_vector tsvector;
BEGIN
    IF words_changed THEN
        new_vector := crm.message_vector(NEW.subject, NEW.from_name, NEW.from_address,
                                         NEW.recipients, NEW.body_text);
    END IF;
    UPDATE crm.message_search s
    SET user_id = NEW.user_id, message_id = NEW.id, date = NEW.date,
        has_attachment = NEW.has_attachment,
        -- a date moved (0034's future dates): the words stay
        vector = CASE WHEN words_changed THEN new_vector ELSE s.vector END,
        pairs = CASE WHEN words_changed THEN crm.message_pairs(new_vector) ELSE s.pairs END
    WHERE s.user_id = OLD.user_id AND s.message_id = OLD.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_search_update
    AFTER UPDATE OF id, user_id, date, has_attachment, subject, from_name, from_address,
                    recipients, body_text ON crm.messages
    FOR EACH ROW
    WHEN ((OLD.id, OLD.user_id, OLD.date, OLD.has_attachment, OLD.subject, OLD.from_name,
           OLD.from_address, OLD.recipients, OLD.body_text)
          IS DISTINCT FROM (NEW.id, NEW.user_id, NEW.date, NEW.has_attachment, NEW.subject,
                            NEW.from_name, NEW.from_address, NEW.recipients, NEW.body_text))
    EXECUTE FUNCTION crm.message_search_update();
