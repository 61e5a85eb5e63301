-- The user's stored messages among these dedup keys, locked as a foreign key's check would lock
-- them (their links to folders carry no such check since migration 0057): a deletion waits for
-- the batch linking them, then takes those links too.
SELECT dedup_key, id FROM crm.messages WHERE user_id = %(user_id)s AND dedup_key = ANY(%(keys)b::text[])
FOR KEY SHARE
