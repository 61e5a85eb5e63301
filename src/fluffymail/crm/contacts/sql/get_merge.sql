SELECT id, user_id, into_contact_id, from_contact_id, addresses, reason, actor, merged_on,
       unmerged_on, unmerged_by
FROM crm.contact_merges WHERE id = %(id)s
