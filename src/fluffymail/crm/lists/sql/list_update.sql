-- Change the owner's list; NULL leaves a field as it is.
UPDATE crm.contact_lists
SET name = coalesce(%(name)s, name),
    filter = coalesce(%(filter)s, filter),
    sort = coalesce(%(sort)s, sort),
    columns = coalesce(%(columns)s, columns),
    shared = coalesce(%(shared)s, shared),
    updated_on = now()
WHERE id = %(id)s AND owner_id = %(owner_id)s
RETURNING id
