-- Delete jobs outright, whatever their state.
DELETE FROM queue.job WHERE id = ANY(%(ids)s::bigint[]) RETURNING id
