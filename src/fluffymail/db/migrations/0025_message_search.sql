-- Mail search (issue 14): full-text search over subject, participants and body text, and the
-- message list's filters and order.
--
-- `recipients`: the To, Cc and Bcc names and addresses as one line (the store writes it from the
-- parsed message, crm/mail/prepare.py; the From is already on the row), so the search vector can
-- be a generated column of the row alone. Existing mail gets it from its participants below.
-- `has_attachment`: set from the MIME structure by the parser (crm/messages/body.py). Mail stored
-- before this migration has no structure left to look at: a multipart/mixed top-level type is
-- taken as "has an attachment" (what it almost always means), anything else as none.
ALTER TABLE crm.messages
    ADD COLUMN recipients text NOT NULL DEFAULT '',
    ADD COLUMN has_attachment boolean NOT NULL DEFAULT false;

UPDATE crm.messages m
SET has_attachment = coalesce(m.content_type = 'multipart/mixed', false),
    recipients = coalesce((
        SELECT left(string_agg(trim(p.display_name || ' ' || p.address), ' '
                               ORDER BY p.role, p.position), 1000)
        FROM crm.message_participants p
        WHERE p.message_id = m.id AND p.role IN ('to', 'cc', 'bcc')), '');

-- The search vector: subject weighted A, the people (From, To, Cc, Bcc) B, the first 2,000
-- characters of the body C. The 'simple' configuration (lower-cased words, no stemming, no stop
-- words) because mail is multilingual: an English stemmer mangles other languages' words and
-- drops English stop words that are names elsewhere; the price is that "meeting" does not find
-- "meetings". The body is cut at 2,000 characters to keep the bytes per message down (what the
-- vector and its index add is measured in BENCHMARKS.md, "Mail search"); that covers most of a
-- message's own words, the rest being mostly quoted replies and footers.
ALTER TABLE crm.messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, subject), 'A')
    || setweight(to_tsvector('simple'::regconfig,
                             coalesce(from_name, '') || ' ' || coalesce(from_address, '') || ' '
                             || recipients), 'B')
    || setweight(to_tsvector('simple'::regconfig, left(body_text, 2000)), 'C')
) STORED;

DO $$
BEGIN
    ALTER TABLE ONLY crm.messages ALTER COLUMN search SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available in this PostgreSQL build; the search vector keeps pglz';
END
$$;

-- Kept in the row (compressed) rather than moved out to the TOAST table with the long bodies:
-- a search reads the vector of every candidate in date order, and a TOAST lookup per row made
-- that 3-4x slower (BENCHMARKS.md, "Mail search").
ALTER TABLE crm.messages ALTER COLUMN search SET STORAGE MAIN;

CREATE INDEX messages_search_idx ON crm.messages USING gin (search);

-- The message list reads newest first (undated mail last) with the id as the tie-break: this index
-- gives that order and keyset pagination; it serves every (user_id, date) range scan the old
-- messages_user_date_idx served, so it replaces it.
CREATE INDEX messages_user_list_idx ON crm.messages (user_id, date DESC NULLS LAST, id DESC);
DROP INDEX crm.messages_user_date_idx;
