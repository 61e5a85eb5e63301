-- Some of the user's contacts' figures (crm.contact_figures), e.g. the connectors of warm-intro paths.
SELECT f.contact_id, to_jsonb(f) AS figures
FROM crm.contact_figures f
WHERE f.user_id = %(user_id)s AND f.contact_id = ANY(%(ids)s::bigint[])
