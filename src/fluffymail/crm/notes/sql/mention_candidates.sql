-- The user's visible contacts each handle could mean: by first name, name without spaces, or
-- the part of the address before the @ (handles are lower-cased).
SELECT h.handle, c.id
FROM unnest(%(handles)s::text[]) AS h (handle)
JOIN crm.contacts c
  ON c.user_id = %(user_id)s AND c.created AND c.merged_into_id IS NULL
 AND c.suppressed_reason IS NULL
 AND (lower(c.first_name) = h.handle
      OR lower(split_part(c.name, ' ', 1)) = h.handle
      OR lower(replace(c.name, ' ', '')) = h.handle
      OR lower(replace(c.name, ' ', '.')) = h.handle
      OR lower(split_part(c.primary_address, '@', 1)) = h.handle)
ORDER BY h.handle, c.id
