-- Contact search ignores accents as well as case (QA: "jose" did not find José, "muller" not
-- Müller), and an import keeps a damaged address as mail keeps it (QA: an export of contacts
-- with `.hall@`, `carol.st.@` or `k..allen@` addresses lost them when read back).
--
-- crm.fold(text): the text lower-cased without its accents, the same for the indexed names and
-- addresses and for the search's words. Unicode compatibility decomposition (NFKD: é -> e + ´,
-- ﬁ -> fi) then the combining marks dropped; the few Latin letters that do not decompose are
-- mapped by hand (ø ł đ ħ ı ð; ß æ œ -> ss ae oe). Core PostgreSQL only: neither unaccent nor
-- pg_trgm is in every build (the embedded pgserver has plpgsql and vector). Plain ASCII, most
-- names and addresses, is only lower-cased. Not STRICT, so the planner inlines it (a NULL gives
-- NULL all the same); about 1 µs per ASCII value, a few µs otherwise.
CREATE FUNCTION crm.fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN octet_length(value) = length(value) THEN lower(value)
    ELSE replace(replace(replace(lower(translate(
             regexp_replace(normalize(value, NFKD),
                            '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]',
                            '', 'g'),
             'ØøŁłĐđĦħıÐð', 'OoLlDdHhiDd')),
         'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe')
END;

-- The trigrams of the folded text, so the GIN indexes of 0011 find "jose" in José; the
-- indexes are rebuilt with it (the backfill of every name and address already stored).
CREATE OR REPLACE FUNCTION crm.trigrams(value text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    folded text := crm.fold(value);
    grams text[] := '{}';
BEGIN
    FOR i IN 1 .. length(folded) - 2 LOOP
        grams := grams || substr(folded, i, 3);
    END LOOP;
    RETURN grams;
END
$$;

REINDEX INDEX crm.contacts_name_trigrams_idx;
REINDEX INDEX crm.contact_addresses_trigrams_idx;
REINDEX INDEX crm.companies_name_trigrams_idx;

-- A staged import row's damaged address (crm.contact_addresses.defect): the contact the import
-- makes keeps it as written with its defect noted, as extraction does (0020).
ALTER TABLE crm.import_rows
    ADD COLUMN address_defect text
        CHECK (address_defect IN ('leading_dot', 'trailing_dot', 'doubled_dot'));
