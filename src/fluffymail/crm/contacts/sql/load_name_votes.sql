-- Name evidence of contacts: the 25 most-voted display names across all their addresses
-- (a long tail of one-off spellings cannot outvote them, and would only slow the ranking).
SELECT contact_id, primary_address, name, first_name, last_name, name_quality, display_name, votes
FROM (
    SELECT c.id AS contact_id, c.primary_address, c.name, c.first_name, c.last_name,
           c.name_quality, v.display_name, v.votes,
           row_number() OVER (PARTITION BY c.id ORDER BY v.votes DESC NULLS LAST, v.display_name)
               AS rank
    FROM crm.contacts c
    LEFT JOIN crm.contact_addresses a ON a.contact_id = c.id
    LEFT JOIN crm.contact_name_votes v ON v.user_id = a.user_id AND v.address = a.address
                                      AND v.votes > 0
    WHERE c.id = ANY(%(ids)s::bigint[])
) ranked
WHERE rank <= 25
ORDER BY contact_id
