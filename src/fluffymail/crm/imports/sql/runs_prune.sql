-- Previews the user never confirmed, after a day (their staged rows go with them).
DELETE FROM crm.import_runs
WHERE user_id = %(user_id)s AND state = 'previewed' AND created_on < %(now)s - interval '1 day'
