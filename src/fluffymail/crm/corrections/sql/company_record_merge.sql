WITH absorbed AS (
    UPDATE crm.companies SET merged_into_id = %(into_id)s, updated_on = %(now)s
    WHERE id = %(from_id)s AND user_id = %(user_id)s
)
INSERT INTO crm.company_merges
    (user_id, into_company_id, from_company_id, contact_ids, actor, merged_on)
VALUES (%(user_id)s, %(into_id)s, %(from_id)s, %(contact_ids)s, %(actor)s, %(now)s)
RETURNING id
