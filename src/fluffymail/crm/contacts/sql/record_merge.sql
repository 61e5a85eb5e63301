WITH absorbed AS (
    UPDATE crm.contacts SET merged_into_id = %(into_id)s, updated_on = %(now)s
    WHERE id = %(from_id)s
)
INSERT INTO crm.contact_merges
    (user_id, into_contact_id, from_contact_id, addresses, reason, actor, merged_on)
VALUES (%(user_id)s, %(into_id)s, %(from_id)s, %(addresses)s, %(reason)s, %(actor)s, %(now)s)
RETURNING id
