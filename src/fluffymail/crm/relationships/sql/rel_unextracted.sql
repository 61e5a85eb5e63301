-- How many of a user's messages extract-contacts has not processed yet: their people are not
-- found, so they count in no relationship until a worker extracts them.
SELECT count(*) FROM crm.message_pending WHERE user_id = %(user_id)s
