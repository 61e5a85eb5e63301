-- Give a lease up (graceful stop), so another process can take it at once.
DELETE FROM queue.lease WHERE name = %(name)s AND holder = %(holder)s RETURNING name
