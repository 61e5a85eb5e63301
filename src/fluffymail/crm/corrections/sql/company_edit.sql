-- The user renames their company (kept from signatures: name_source 'user') or sets its website.
UPDATE crm.companies
SET name = coalesce(%(name)s::text, name),
    name_source = CASE WHEN %(name)s::text IS NULL THEN name_source ELSE 'user' END,
    website = CASE WHEN %(set_website)s THEN %(website)s::text ELSE website END,
    updated_on = %(now)s
WHERE id = %(id)s AND user_id = %(user_id)s
RETURNING id
