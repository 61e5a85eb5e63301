-- Mark `from_id` absorbed by `into_id` and record the merge (its people moved before,
-- company_move_people.sql). What else the absorbed company had goes to the survivor, as a
-- contact merge carries a contact's (record_merge.sql):
--   tags   the union (one the survivor already has is not doubled); the rows move as they
--          are, so a tag stays its workspace's
--   notes  every note on it
-- `moved` records what moved and which tags the survivor did not have, for
-- company_record_unmerge.sql. One statement: every part sees both companies as they were.
WITH absorbed AS (
    UPDATE crm.companies SET merged_into_id = %(into_id)s, updated_on = %(now)s
    WHERE id = %(from_id)s AND user_id = %(user_id)s
), tags_from AS (
    DELETE FROM crm.company_tags WHERE company_id = %(from_id)s
    RETURNING tag_id, tagged_by, tagged_on
), tags_added AS (
    INSERT INTO crm.company_tags (company_id, tag_id, tagged_by, tagged_on)
    SELECT %(into_id)s, tag_id, tagged_by, tagged_on FROM tags_from
    ON CONFLICT DO NOTHING
    RETURNING tag_id
), notes_moved AS (
    UPDATE crm.notes SET company_id = %(into_id)s
    WHERE company_id = %(from_id)s
    RETURNING id
)
INSERT INTO crm.company_merges
    (user_id, into_company_id, from_company_id, contact_ids, actor, merged_on, moved)
VALUES (%(user_id)s, %(into_id)s, %(from_id)s, %(contact_ids)s, %(actor)s, %(now)s,
    jsonb_build_object(
        'tags', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.tag_id), '[]')
                 FROM tags_from t),
        'tags_added', (SELECT coalesce(jsonb_agg(tag_id ORDER BY tag_id), '[]')
                       FROM tags_added),
        'notes', (SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') FROM notes_moved)))
RETURNING id
