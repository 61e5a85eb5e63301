-- Bytes per stored message (issue 19): crm.messages' heap was half empty and one of its indexes
-- unused (BENCHMARKS.md, "Bytes per message through the pipeline").

-- 0014 set fillfactor 50 so that extract-contacts' one update per message (processed_on) stayed
-- on its page (HOT). Since 0031 moved the search vector out, that room is most of the heap: at
-- 66,672 pipeline messages the heap holds 2,552 bytes per message, 1,245 once packed. At 100
-- the update is not HOT: the new version goes where a later insert would, the old one is
-- vacuumed and its room taken by later rows, and the btrees absorb the extra versions of
-- unchanged keys (bottom-up deletion, PostgreSQL 14+). Applies to pages written from now on;
-- `VACUUM FULL crm.messages` repacks older ones.
ALTER TABLE crm.messages SET (fillfactor = 100);

-- (user_id, message_id) from 0003: no query looks a message up by its Message-ID header
-- (threading reads crm.thread_keys); ~100 bytes per message.
DROP INDEX crm.messages_message_id_idx;
