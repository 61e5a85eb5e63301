-- Bytes per stored message (issue 19; BENCHMARKS.md, "Bytes per message through the pipeline").
-- Storage only: the same rows, the same query results.

-- A message row longer than 2 kB (the TOAST threshold) was compressed just below it, body and
-- all, and kept in the fillfactor-50 heap (0014: extract-contacts' update stays on its page),
-- which then held ~4 kB of page per such message. Past the threshold the row is now shrunk to
-- 512 bytes: the body (and any other long value) goes compressed to the TOAST table, and the
-- row and its one update stay small. Rows below 2 kB are unchanged (the threshold is built into
-- PostgreSQL). Same rows re-inserted (66,672 pipeline messages): heap + TOAST 3,439 → 3,104
-- bytes per message (256: 3,145; 384: 3,096; 768: 3,205; 1024: 3,239).
-- Kept: fillfactor 50. With no vacuum between the import and extraction (autovacuum off, as on
-- the bench's server) fillfactor 100 measured no smaller: the non-HOT update leaves its old
-- version in the heap and a new entry in every index (heap 2,451 instead of 2,552 bytes per
-- message, the four indexes 343 instead of 226).
ALTER TABLE crm.messages SET (toast_tuple_target = 512);

-- (user_id, message_id) from 0003: no query looks a message up by its Message-ID header
-- (threading reads crm.thread_keys; the header is only shown); ~100 bytes per message.
DROP INDEX crm.messages_message_id_idx;

-- bump_threads.sql updates a thread each time a batch brings it mail (no indexed column
-- changes): at fillfactor 100 four updates in five were not HOT, and without a vacuum their
-- dead versions stayed (43,279 dead, 7,509 live rows after 66,672 messages). At 50 the new
-- version stays on its page and the next update prunes the old one.
ALTER TABLE crm.threads SET (fillfactor = 50);
