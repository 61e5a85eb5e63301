-- Mark `from_id` absorbed by `into_id` and record the merge. Its addresses moved before
-- (move_addresses.sql); here the rest of what the absorbed contact had goes to the survivor:
--   tags, static-list memberships  the union (one the survivor already has is not doubled);
--                                  the rows move as they are, so a tag stays its workspace's
--                                  and a list its owner's
--   notes                          every note on it, and every mention of it in a note
--   cadence                        when the survivor has none (else it keeps its own), with
--                                  its cadence follow-ups, the current round and those done
--                                  or dismissed: the same rows, so a reminder job (keyed by
--                                  the follow-up) still fires for it
--   name, company, title, phone    a value the user set on the absorbed contact ("set by
--                                  you", not a cleared one) where the survivor has none set
--                                  by the user; the caller refreshes the current facts
-- `moved` records what moved and what the survivor had before, for record_unmerge.sql.
-- One statement: every part sees both contacts as they were before the merge.
WITH survivor AS (  -- the survivor before the merge, and the values it takes
    SELECT i.name, i.first_name, i.last_name, i.name_quality, i.company_id,
           f.name_source = 'you' AND f.name <> '' AND i.name_source <> 'you' AS takes_name,
           f.company_source = 'you' AND f.company_id IS NOT NULL
               AND i.company_source <> 'you' AS takes_company,
           f.name AS from_name, f.first_name AS from_first_name,
           f.last_name AS from_last_name, f.name_quality AS from_name_quality,
           f.company_id AS from_company_id
    FROM crm.contacts i, crm.contacts f
    WHERE i.id = %(into_id)s AND f.id = %(from_id)s
), taken AS (
    UPDATE crm.contacts c
    SET name = CASE WHEN s.takes_name THEN s.from_name ELSE c.name END,
        first_name = CASE WHEN s.takes_name THEN s.from_first_name ELSE c.first_name END,
        last_name = CASE WHEN s.takes_name THEN s.from_last_name ELSE c.last_name END,
        name_quality = CASE WHEN s.takes_name THEN s.from_name_quality ELSE c.name_quality END,
        name_source = CASE WHEN s.takes_name THEN 'you' ELSE c.name_source END,
        company_id = CASE WHEN s.takes_company THEN s.from_company_id ELSE c.company_id END,
        company_source = CASE WHEN s.takes_company THEN 'you' ELSE c.company_source END,
        updated_on = %(now)s
    FROM survivor s
    WHERE c.id = %(into_id)s AND (s.takes_name OR s.takes_company)
), absorbed AS (
    UPDATE crm.contacts SET merged_into_id = %(into_id)s, updated_on = %(now)s
    WHERE id = %(from_id)s
), tags_from AS (
    DELETE FROM crm.contact_tags WHERE contact_id = %(from_id)s
    RETURNING tag_id, tagged_by, tagged_on
), tags_added AS (
    INSERT INTO crm.contact_tags (contact_id, tag_id, tagged_by, tagged_on)
    SELECT %(into_id)s, tag_id, tagged_by, tagged_on FROM tags_from
    ON CONFLICT DO NOTHING
    RETURNING tag_id
), lists_from AS (
    DELETE FROM crm.contact_list_members WHERE contact_id = %(from_id)s
    RETURNING list_id, added_by, added_on
), lists_added AS (
    INSERT INTO crm.contact_list_members (list_id, contact_id, added_by, added_on)
    SELECT list_id, %(into_id)s, added_by, added_on FROM lists_from
    ON CONFLICT DO NOTHING
    RETURNING list_id
), notes_moved AS (
    UPDATE crm.notes SET contact_id = %(into_id)s
    WHERE contact_id = %(from_id)s
    RETURNING id
), mentions_from AS (
    DELETE FROM crm.note_mentions WHERE contact_id = %(from_id)s
    RETURNING note_id
), mentions_added AS (
    INSERT INTO crm.note_mentions (note_id, contact_id)
    SELECT note_id, %(into_id)s FROM mentions_from
    ON CONFLICT DO NOTHING
    RETURNING note_id
), cadence_from AS (
    DELETE FROM crm.contact_cadences
    WHERE contact_id = %(from_id)s
      AND NOT EXISTS (SELECT FROM crm.contact_cadences WHERE contact_id = %(into_id)s)
    RETURNING user_id, days, set_by, set_on
), cadence_taken AS (
    INSERT INTO crm.contact_cadences (contact_id, user_id, days, set_by, set_on)
    SELECT %(into_id)s, user_id, days, set_by, set_on FROM cadence_from
), followups_moved AS (  -- the current round unless the survivor has one of its own
    UPDATE crm.followups f SET contact_id = %(into_id)s
    WHERE f.contact_id = %(from_id)s AND f.reason = 'cadence'
      AND EXISTS (SELECT FROM cadence_from)
      AND (f.key <> 'cadence'
           OR NOT EXISTS (SELECT FROM crm.followups o
                          WHERE o.contact_id = %(into_id)s AND o.key = 'cadence'))
    RETURNING f.id
), facts_wanted AS (
    SELECT f.field, f.value, f.observed_on
    FROM crm.contact_facts f
    WHERE f.contact_id = %(from_id)s AND f.source = 'you' AND f.value <> ''
      AND NOT EXISTS (SELECT FROM crm.contact_facts g
                      WHERE g.contact_id = %(into_id)s AND g.field = f.field
                        AND g.source = 'you')
), facts_prior AS (  -- the survivor's extracted row of a value it takes, restored on undo
    SELECT g.id, g.kind, g.source, g.source_message_id, g.confidence, g.observed_on
    FROM crm.contact_facts g JOIN facts_wanted w USING (field, value)
    WHERE g.contact_id = %(into_id)s
), facts_taken AS (
    INSERT INTO crm.contact_facts
        (contact_id, field, value, kind, source, confidence, observed_on)
    SELECT %(into_id)s, field, value, '', 'you', 1, observed_on FROM facts_wanted
    ON CONFLICT (contact_id, field, value) DO UPDATE
    SET source = 'you', kind = '', confidence = 1, source_message_id = NULL,
        observed_on = excluded.observed_on
    RETURNING id
)
INSERT INTO crm.contact_merges
    (user_id, into_contact_id, from_contact_id, addresses, reason, actor, merged_on, moved)
SELECT %(user_id)s, %(into_id)s, %(from_id)s, %(addresses)s, %(reason)s, %(actor)s, %(now)s,
    jsonb_build_object(
        'tags', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.tag_id), '[]')
                 FROM tags_from t),
        'tags_added', (SELECT coalesce(jsonb_agg(tag_id ORDER BY tag_id), '[]')
                       FROM tags_added),
        'lists', (SELECT coalesce(jsonb_agg(to_jsonb(l) ORDER BY l.list_id), '[]')
                  FROM lists_from l),
        'lists_added', (SELECT coalesce(jsonb_agg(list_id ORDER BY list_id), '[]')
                        FROM lists_added),
        'notes', (SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') FROM notes_moved),
        'mentions', (SELECT coalesce(jsonb_agg(note_id ORDER BY note_id), '[]')
                     FROM mentions_from),
        'mentions_added', (SELECT coalesce(jsonb_agg(note_id ORDER BY note_id), '[]')
                           FROM mentions_added),
        'cadence', (SELECT to_jsonb(c) FROM cadence_from c),
        'followups', (SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') FROM followups_moved),
        'name', (SELECT jsonb_build_object('name', name, 'first_name', first_name,
                                           'last_name', last_name,
                                           'name_quality', name_quality, 'taken', from_name)
                 FROM survivor WHERE takes_name),
        'company', (SELECT jsonb_build_object('company_id', company_id,
                                              'taken', from_company_id)
                    FROM survivor WHERE takes_company),
        'facts', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'prior', to_jsonb(p))
                                            ORDER BY t.id), '[]')
                  FROM facts_taken t LEFT JOIN facts_prior p ON p.id = t.id))
RETURNING id
