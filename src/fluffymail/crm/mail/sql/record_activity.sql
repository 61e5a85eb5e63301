-- The server answered a syncing connection at %(at)s, while it read %(folder)s (None: not in
-- a folder yet): the page tells a slow sync from a stalled one by it.
UPDATE crm.connections
SET last_progress_on = greatest(last_progress_on, %(at)s),
    progress_folder = coalesce(%(folder)s, progress_folder)
WHERE id = %(id)s AND status = 'syncing'
