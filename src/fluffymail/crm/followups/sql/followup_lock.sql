-- Lock one of the user's follow-ups for a change that reads it first (a reopen); its id.
SELECT id FROM crm.followups WHERE id = %(id)s AND user_id = %(user_id)s FOR UPDATE
