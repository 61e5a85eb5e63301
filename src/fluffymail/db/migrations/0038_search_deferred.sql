-- A sync's batches leave their messages' search rows to extraction (issue 21: a sync stores at
-- the rate it fetches). Computing the vector and its word pairs (0031) in the store's COPY
-- cost about 270 µs of the database's CPU per message, the largest part of storing one: the
-- import of the Enron corpus fell from 3,500 to 2,100 messages/s. A transaction that sets
-- `fluffymail.search_deferred` (the sync's store, for every message it enqueues for
-- extract-contacts) writes no search row; the extract-contacts job writes them for its batch
-- (crm/mail/sql/messages_index_search.sql), so mail becomes searchable when it is extracted,
-- seconds later. Every other writer (a test's INSERT, a future reparse) is indexed at once.
CREATE OR REPLACE FUNCTION crm.message_search_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('fluffymail.search_deferred', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO crm.message_search (user_id, message_id, date, has_attachment, vector, pairs)
    SELECT v.user_id, v.id, v.date, v.has_attachment, v.vector, crm.message_pairs(v.vector)
    FROM (SELECT n.user_id, n.id, n.date, n.has_attachment,
                 crm.message_vector(n.subject, n.from_name, n.from_address, n.recipients,
                                    n.body_text) AS vector
          FROM inserted n) v;
    RETURN NULL;
END
$$;
