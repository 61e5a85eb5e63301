-- One of the user's companies (merged or not), or no row: the existence check of the routes
-- about a company (its notes, tags, activity). company_get.sql reads the roll-up of every person
-- there: 70 ms for the biggest company of a 1M-message mailbox (issue 19).
SELECT id FROM crm.companies WHERE id = %(id)s AND user_id = %(user_id)s
