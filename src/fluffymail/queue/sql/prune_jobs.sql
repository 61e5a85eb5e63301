-- Delete one bounded batch of finished jobs whose retention has passed (attempts cascade).
DELETE FROM queue.job WHERE id IN (
    SELECT id FROM queue.job
    WHERE state > 'active' AND keep_until < now()
    ORDER BY keep_until
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id
