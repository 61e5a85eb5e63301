-- Users' addresses in order, for an error that names the known ones (the CLI's --user).
SELECT email FROM crm.users ORDER BY email LIMIT %(limit)s
