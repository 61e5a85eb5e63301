-- The tags the rows name, made in the workspace when it has none by that name (ignoring
-- case), each in a palette colour chosen from its name.
INSERT INTO crm.tags (workspace_id, name, colour, created_by)
SELECT DISTINCT ON (lower(t.name)) %(workspace_id)s, t.name,
       (ARRAY['grey', 'red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple',
              'pink'])[1 + abs(hashtext(lower(t.name)) %% 9)],
       %(user_id)s
FROM crm.import_rows r, unnest(r.tags) AS t(name)
WHERE r.run_id = %(run_id)s
ORDER BY lower(t.name), r.row_no
ON CONFLICT (workspace_id, lower(name)) DO NOTHING
