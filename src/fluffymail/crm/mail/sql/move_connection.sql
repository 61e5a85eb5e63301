-- Point a file connection at its file's new place (moved, copied, uploaded again); no row when
-- another connection of the user already reads that place.
UPDATE crm.connections c SET source = %(source)s
WHERE c.id = %(id)s
  AND NOT EXISTS (SELECT 1 FROM crm.connections o
                  WHERE o.user_id = c.user_id AND o.kind = c.kind AND o.source = %(source)s)
RETURNING *
