-- Undo a merge (the caller moved the addresses back): the absorbed contact is live again and
-- gets back what record_merge.sql moved (`moved`), and the survivor gives back what it took:
-- tags and list memberships it did not have before, the notes and mentions, the cadence and
-- its follow-ups, the name, company, title and phone it took. A change made since the merge
-- stays: a tag, list or note deleted meanwhile stays deleted, and the survivor keeps a
-- cadence or value the user set on it after the merge. The caller refreshes the current facts.
-- One statement: every part sees the contacts as they were before the undo.
WITH undone AS (
    UPDATE crm.contact_merges SET unmerged_on = %(now)s, unmerged_by = %(actor)s
    WHERE id = %(id)s AND unmerged_on IS NULL
    RETURNING into_contact_id AS into_id, from_contact_id AS from_id, moved
), tags_dropped AS (
    DELETE FROM crm.contact_tags t USING undone u
    WHERE t.contact_id = u.into_id
      AND t.tag_id IN (SELECT jsonb_array_elements_text(u.moved->'tags_added')::bigint)
), tags_back AS (
    INSERT INTO crm.contact_tags (contact_id, tag_id, tagged_by, tagged_on)
    SELECT u.from_id, r.tag_id, who.id, r.tagged_on
    FROM undone u
    CROSS JOIN jsonb_to_recordset(coalesce(u.moved->'tags', '[]'))
        AS r (tag_id bigint, tagged_by bigint, tagged_on timestamptz)
    JOIN crm.tags g ON g.id = r.tag_id
    LEFT JOIN crm.users who ON who.id = r.tagged_by
    ON CONFLICT DO NOTHING
), lists_dropped AS (
    DELETE FROM crm.contact_list_members m USING undone u
    WHERE m.contact_id = u.into_id
      AND m.list_id IN (SELECT jsonb_array_elements_text(u.moved->'lists_added')::bigint)
), lists_back AS (
    INSERT INTO crm.contact_list_members (list_id, contact_id, added_by, added_on)
    SELECT r.list_id, u.from_id, who.id, r.added_on
    FROM undone u
    CROSS JOIN jsonb_to_recordset(coalesce(u.moved->'lists', '[]'))
        AS r (list_id bigint, added_by bigint, added_on timestamptz)
    JOIN crm.contact_lists l ON l.id = r.list_id
    LEFT JOIN crm.users who ON who.id = r.added_by
    ON CONFLICT DO NOTHING
), notes_back AS (
    UPDATE crm.notes n SET contact_id = u.from_id
    FROM undone u
    WHERE n.contact_id = u.into_id
      AND n.id IN (SELECT jsonb_array_elements_text(u.moved->'notes')::bigint)
), mentions_dropped AS (
    DELETE FROM crm.note_mentions m USING undone u
    WHERE m.contact_id = u.into_id
      AND m.note_id IN (SELECT jsonb_array_elements_text(u.moved->'mentions_added')::bigint)
), mentions_back AS (
    INSERT INTO crm.note_mentions (note_id, contact_id)
    SELECT n.id, u.from_id
    FROM undone u
    JOIN crm.notes n
        ON n.id IN (SELECT jsonb_array_elements_text(u.moved->'mentions')::bigint)
    ON CONFLICT DO NOTHING
), cadence_dropped AS (  -- unless the user changed the survivor's cadence since
    DELETE FROM crm.contact_cadences c USING undone u
    WHERE jsonb_typeof(u.moved->'cadence') = 'object' AND c.contact_id = u.into_id
      AND c.days = (u.moved->'cadence'->>'days')::integer
      AND c.set_on = (u.moved->'cadence'->>'set_on')::timestamptz
), cadence_back AS (
    INSERT INTO crm.contact_cadences (contact_id, user_id, days, set_by, set_on)
    SELECT u.from_id, r.user_id, r.days, who.id, r.set_on
    FROM undone u
    CROSS JOIN jsonb_to_record(CASE WHEN jsonb_typeof(u.moved->'cadence') = 'object'
                                    THEN u.moved->'cadence' END)
        AS r (user_id bigint, days integer, set_by bigint, set_on timestamptz)
    LEFT JOIN crm.users who ON who.id = r.set_by
    WHERE jsonb_typeof(u.moved->'cadence') = 'object'
    ON CONFLICT (contact_id) DO NOTHING
), followups_back AS (
    UPDATE crm.followups f SET contact_id = u.from_id
    FROM undone u
    WHERE f.contact_id = u.into_id
      AND f.id IN (SELECT jsonb_array_elements_text(u.moved->'followups')::bigint)
      AND (f.key <> 'cadence'
           OR NOT EXISTS (SELECT FROM crm.followups o
                          WHERE o.contact_id = u.from_id AND o.key = 'cadence'))
), survivor_back AS (  -- the name and company it took, unless the user changed them since
    UPDATE crm.contacts c
    SET name = CASE WHEN b.name THEN u.moved->'name'->>'name' ELSE c.name END,
        first_name = CASE WHEN b.name THEN u.moved->'name'->>'first_name' ELSE c.first_name END,
        last_name = CASE WHEN b.name THEN u.moved->'name'->>'last_name' ELSE c.last_name END,
        name_quality = CASE WHEN b.name THEN (u.moved->'name'->>'name_quality')::smallint
                            ELSE c.name_quality END,
        name_source = CASE WHEN b.name THEN 'mail' ELSE c.name_source END,
        company_id = CASE WHEN b.company THEN (u.moved->'company'->>'company_id')::bigint
                          ELSE c.company_id END,
        company_source = CASE WHEN b.company THEN 'mail' ELSE c.company_source END,
        updated_on = %(now)s
    FROM undone u
    JOIN crm.contacts s ON s.id = u.into_id
    CROSS JOIN LATERAL (
        SELECT jsonb_typeof(u.moved->'name') = 'object' AND s.name_source = 'you'
                   AND s.name = u.moved->'name'->>'taken' AS name,
               jsonb_typeof(u.moved->'company') = 'object' AND s.company_source = 'you'
                   AND s.company_id = (u.moved->'company'->>'taken')::bigint AS company
    ) b
    WHERE c.id = s.id AND (b.name OR b.company)
), facts_dropped AS (  -- a title or phone the survivor took, unless the user changed it since
    DELETE FROM crm.contact_facts f
    USING undone u
    CROSS JOIN jsonb_to_recordset(coalesce(u.moved->'facts', '[]')) AS r (id bigint, prior jsonb)
    WHERE f.id = r.id AND f.contact_id = u.into_id AND f.source = 'you'
      AND coalesce(jsonb_typeof(r.prior), 'null') = 'null'
), facts_restored AS (  -- or the survivor's extracted row it overwrote, as it was
    UPDATE crm.contact_facts f
    SET kind = p.kind, source = p.source, source_message_id = m.id,
        confidence = p.confidence, observed_on = p.observed_on
    FROM undone u
    CROSS JOIN jsonb_to_recordset(coalesce(u.moved->'facts', '[]')) AS r (id bigint, prior jsonb)
    CROSS JOIN LATERAL jsonb_to_record(CASE WHEN jsonb_typeof(r.prior) = 'object'
                                            THEN r.prior END) AS p (
        kind text, source text, source_message_id bigint, confidence real,
        observed_on timestamptz)
    LEFT JOIN crm.messages m ON m.id = p.source_message_id
    WHERE f.id = r.id AND f.contact_id = u.into_id AND f.source = 'you'
      AND jsonb_typeof(r.prior) = 'object'
)
UPDATE crm.contacts SET merged_into_id = NULL, updated_on = %(now)s
WHERE id IN (SELECT from_id FROM undone)
RETURNING id
