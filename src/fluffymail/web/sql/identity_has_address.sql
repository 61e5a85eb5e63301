-- Whether an address is on the user's "You" page (an alias or a sent-folder sender).
SELECT EXISTS (SELECT 1 FROM crm.user_aliases WHERE user_id = %(user_id)s AND address = %(address)s)
    OR EXISTS (SELECT 1 FROM crm.mailbox_senders
               WHERE user_id = %(user_id)s AND address = %(address)s) AS listed
