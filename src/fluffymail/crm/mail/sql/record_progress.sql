UPDATE crm.connections
SET seen_count = seen_count + %(seen)s, stored_count = stored_count + %(stored)s,
    remaining_estimate = %(remaining)s
WHERE id = %(id)s
