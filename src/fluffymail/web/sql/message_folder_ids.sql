-- The ids of the messages in the user's folders called `folder`, from at most `cap` of their
-- rows (`n`; a message may be filed twice): a folder with fewer rows is read by key as the
-- list's `ids`; one with `cap` or more is checked per message (message_search.py,
-- DENSE_USES). Each folder's rows are read in its key's order (a plan that scanned the rows
-- of every folder took 66 ms at 1M).
SELECT count(*) AS n, coalesce(array_agg(DISTINCT held.message_id), '{}') AS ids
FROM (
    SELECT mf.message_id
    FROM crm.connections c
    JOIN crm.folders f ON f.connection_id = c.id
    CROSS JOIN LATERAL (
        SELECT mf.message_id FROM crm.message_folders mf WHERE mf.folder_id = f.id
        ORDER BY mf.source_id  -- the key's order: never a scan of every folder's rows
        LIMIT %(cap)s
    ) mf
    WHERE c.user_id = %(user_id)s AND f.name = %(folder)s
    LIMIT %(cap)s
) held
