-- A new note about one of the user's contacts or companies (the caller checked which).
INSERT INTO crm.notes (workspace_id, author_id, contact_id, company_id, body, created_on,
                       updated_on)
VALUES (%(workspace_id)s, %(author_id)s, %(contact_id)s, %(company_id)s, %(body)s, %(now)s,
        %(now)s)
RETURNING id
