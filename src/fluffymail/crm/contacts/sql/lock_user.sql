-- Extraction holds its user's lock shared; repairing aliases takes it exclusively, so it
-- waits for the batches in flight and sees (and redoes) everything they linked.
SELECT CASE WHEN %(exclusive)s THEN pg_advisory_xact_lock(5004, %(user_id)s::integer)::text
            ELSE pg_advisory_xact_lock_shared(5004, %(user_id)s::integer)::text END
