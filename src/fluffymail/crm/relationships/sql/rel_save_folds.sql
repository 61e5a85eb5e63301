-- Record the links now folded per contact (0: forget the contact).
WITH incoming AS (
    SELECT * FROM unnest(%(contact_ids)s::bigint[], %(links)s::integer[]) AS f(contact_id, links)
), gone AS (
    DELETE FROM crm.relationship_folds r
    USING incoming i
    WHERE r.user_id = %(user_id)s AND r.contact_id = i.contact_id AND i.links = 0
)
INSERT INTO crm.relationship_folds (user_id, contact_id, links)
SELECT %(user_id)s, contact_id, links FROM incoming WHERE links > 0 ORDER BY contact_id
ON CONFLICT (user_id, contact_id) DO UPDATE SET links = excluded.links
