-- A sync ended well; its batches' rows of changes to the connection's totals (0046) are
-- folded into one.
WITH finished AS (
    UPDATE crm.connections
    SET status = 'ok', last_synced_on = %(now)s, remaining_estimate = 0,
        last_error = NULL, last_error_on = NULL
    WHERE id = %(id)s
    RETURNING user_id, id
)
SELECT crm.compact_connection_totals(f.user_id, f.id) FROM finished f
