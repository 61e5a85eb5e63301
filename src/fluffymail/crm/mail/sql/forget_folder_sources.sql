-- Forget provider ids of a folder: all of them (resync), the listed ones (deleted), or all
-- but the listed ones (present). Messages stay: they may be in other folders or re-found.
DELETE FROM crm.message_folders mf
USING crm.folders f
WHERE f.connection_id = %(connection_id)s AND f.name = %(folder)s AND mf.folder_id = f.id
  AND CASE %(mode)s
        WHEN 'all' THEN true
        WHEN 'listed' THEN mf.source_id = ANY(%(source_ids)s::text[])
        ELSE NOT (mf.source_id = ANY(%(source_ids)s::text[]))
      END
