-- Bytes per stored message (issue 19; BENCHMARKS.md, "Bytes per message through the pipeline").
-- Storage only: the same rows, the same query results.

-- Not done: `toast_tuple_target = 512` on crm.messages (its long bodies out to TOAST) measured
-- heap + TOAST 3,439 → 3,104 bytes per message, but every search-row build and summary would
-- then read those bodies from TOAST; left until its cost on import and indexing is measured.

-- (user_id, message_id) from 0003: no query looks a message up by its Message-ID header
-- (threading reads crm.thread_keys; the header is only shown); ~100 bytes per message.
DROP INDEX crm.messages_message_id_idx;

-- bump_threads.sql updates a thread each time a batch brings it mail (no indexed column
-- changes): at fillfactor 100 four updates in five were not HOT, and without a vacuum their
-- dead versions stayed (43,279 dead, 7,509 live rows after 66,672 messages). At 50 the new
-- version stays on its page and the next update prunes the old one.
ALTER TABLE crm.threads SET (fillfactor = 50);
