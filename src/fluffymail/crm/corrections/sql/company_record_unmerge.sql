-- Undo a company merge (the caller moves the people back): the absorbed company is live again
-- and gets back what company_record_merge.sql moved (`moved`): its tags (the survivor gives up
-- those it did not have before) and its notes. A change made since stays: a tag or note
-- deleted meanwhile stays deleted, a note written on the survivor stays there. Merges recorded
-- before 0055 moved nothing else ('{}'). One statement: every part sees the companies as they
-- were before the undo.
WITH undone AS (
    UPDATE crm.company_merges SET unmerged_on = %(now)s, unmerged_by = %(actor)s
    WHERE id = %(id)s AND unmerged_on IS NULL
    RETURNING into_company_id AS into_id, from_company_id AS from_id, moved
), tags_dropped AS (
    DELETE FROM crm.company_tags t USING undone u
    WHERE t.company_id = u.into_id
      AND t.tag_id IN (SELECT jsonb_array_elements_text(u.moved->'tags_added')::bigint)
), tags_back AS (
    INSERT INTO crm.company_tags (company_id, tag_id, tagged_by, tagged_on)
    SELECT u.from_id, r.tag_id, who.id, r.tagged_on
    FROM undone u
    CROSS JOIN jsonb_to_recordset(coalesce(u.moved->'tags', '[]'))
        AS r (tag_id bigint, tagged_by bigint, tagged_on timestamptz)
    JOIN crm.tags g ON g.id = r.tag_id
    LEFT JOIN crm.users who ON who.id = r.tagged_by
    ON CONFLICT DO NOTHING
), notes_back AS (
    UPDATE crm.notes n SET company_id = u.from_id
    FROM undone u
    WHERE n.company_id = u.into_id
      AND n.id IN (SELECT jsonb_array_elements_text(u.moved->'notes')::bigint)
)
UPDATE crm.companies SET merged_into_id = NULL, updated_on = %(now)s
WHERE id IN (SELECT from_id FROM undone)
RETURNING id
