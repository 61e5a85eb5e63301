-- Identity merges read only the people who can pair (QA 2026-12-07: the handle rule read every
-- live person at each company host a batch touched, with no index on the host, so a mailbox
-- with tens of thousands of colleagues at one host paid for all of them in every batch).
--
-- crm.name_key(name, other): a name as the handle rule reads it (`names.handles_of`: letters
-- only, case and accents folded with crm.fold) cut to its first 6 letters, so that a handle a
-- mail system cut short (`dwhitfi@`) still gives its family name's key, then the initial of the
-- other name: 'whitfi d' for Dana Whitfield's family name, 'dana w' for her given name. Every
-- handle shape fixes one name and the other's initial (`identity.handle_name_keys`). The two
-- partial indexes find the fully named people (name_quality 3) of a user by either: those whose
-- name could make a nameless handle, and the namesakes of a newly named contact. A superset;
-- the exact rule stays in Python.
CREATE FUNCTION crm.name_key(name text, other text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN left(regexp_replace(crm.fold(name), '[^a-z]', '', 'g'), 6) || ' '
       || left(regexp_replace(crm.fold(other), '[^a-z]', '', 'g'), 1);

CREATE INDEX contacts_family_key_idx ON crm.contacts (user_id, crm.name_key(last_name, first_name))
    WHERE name_quality >= 3 AND merged_into_id IS NULL;

CREATE INDEX contacts_given_key_idx ON crm.contacts (user_id, crm.name_key(first_name, last_name))
    WHERE name_quality >= 3 AND merged_into_id IS NULL;
