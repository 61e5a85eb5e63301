-- How much mail each contact and company filter of the message list stands for: the links of
-- its people by their cached counts (contacts.*_count, an upper bound of their messages), NULL
-- for a filter not given or not the user's. The list checks a filter with many per message
-- and resolves a rarer one into its messages' ids first (message_search.py, DENSE_USES).
SELECT (SELECT c.received_from_count FROM crm.contacts c
        WHERE c.id = %(from_contact)s::bigint AND c.user_id = %(user_id)s) AS from_contact_uses,
       (SELECT c.sent_to_count + c.cc_count FROM crm.contacts c
        WHERE c.id = %(to_contact)s::bigint AND c.user_id = %(user_id)s) AS to_contact_uses,
       (SELECT sum(c.sent_to_count + c.received_from_count + c.cc_count) FROM crm.contacts c
        WHERE c.company_id = %(company)s::bigint AND c.user_id = %(user_id)s
          AND c.merged_into_id IS NULL) AS company_uses
