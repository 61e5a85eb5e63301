-- True while the user's first import runs (its read, or, %(in_run)s, the extraction of a
-- sync's run), nothing is ranked yet and no analysis ran since %(since)s: the mail extracted
-- so far is analysed at once, so a partial ranking shows within seconds (issue 19), and an
-- import whose first mail makes no contacts (an inbox, under the `sent` policy) is analysed
-- again at most that often until one appears.
SELECT (%(in_run)s OR EXISTS (
           SELECT 1 FROM crm.connections
           WHERE user_id = %(user_id)s AND status = 'syncing' AND last_synced_on IS NULL
             AND deleting_on IS NULL
       ))
       AND NOT EXISTS (SELECT 1 FROM crm.relationships WHERE user_id = %(user_id)s)
       AND NOT EXISTS (
           SELECT 1 FROM crm.relationship_runs
           WHERE user_id = %(user_id)s AND analyzed_on >= %(since)s
       )
