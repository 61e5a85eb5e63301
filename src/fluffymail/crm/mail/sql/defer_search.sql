-- This transaction's new messages get their search rows from extract-contacts (0038).
SET LOCAL fluffymail.search_deferred = 'on'
