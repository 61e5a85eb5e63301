-- Store a secret re-encrypted under the current key, unless it changed meanwhile (rotated).
UPDATE crm.webhooks SET secret = %(new)s WHERE id = %(id)s AND secret = %(old)s RETURNING id
