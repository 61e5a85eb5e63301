-- The links each contact's stored state has folded in (compared with rel_link_counts).
SELECT contact_id, links FROM crm.relationship_folds WHERE user_id = %(user_id)s
