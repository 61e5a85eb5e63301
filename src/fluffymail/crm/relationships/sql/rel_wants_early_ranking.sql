-- True while the user's first import runs and nothing is ranked yet: the first mail extracted
-- is analysed at once, so a partial ranking shows within seconds (issue 19).
SELECT EXISTS (
           SELECT 1 FROM crm.connections
           WHERE user_id = %(user_id)s AND status = 'syncing' AND last_synced_on IS NULL
             AND deleting_on IS NULL
       )
       AND NOT EXISTS (
           SELECT 1 FROM crm.relationship_runs
           WHERE user_id = %(user_id)s AND last_message_id > 0
       )
