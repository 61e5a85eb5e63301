-- Contacts of the addresses whose links changed: visible when a link says so, or when the user
-- added them or worked on them (a note or mention, a tag, a confirmation on the "You" page, a
-- merge): tightening a policy never hides the user's work, and marks it kept (`kept_on`) so
-- later recounts keep it too. Returns the contacts whose visibility changed.
WITH ids AS (
    SELECT DISTINCT a.contact_id AS id FROM crm.contact_addresses a
    WHERE a.user_id = %(user_id)s AND a.address = ANY(%(addresses)s::text[])
), state AS (
    SELECT ids.id,
           EXISTS (SELECT 1 FROM crm.contact_addresses a
                   JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
                   WHERE a.contact_id = ids.id AND l.visible) AS visible,
           EXISTS (SELECT 1 FROM crm.notes n WHERE n.contact_id = ids.id)
           OR EXISTS (SELECT 1 FROM crm.note_mentions nm WHERE nm.contact_id = ids.id)
           OR EXISTS (SELECT 1 FROM crm.contact_tags t WHERE t.contact_id = ids.id)
           OR EXISTS (SELECT 1 FROM crm.contact_merges cm
                      WHERE cm.into_contact_id = ids.id AND cm.reason = 'user'
                        AND cm.unmerged_on IS NULL)
           OR EXISTS (SELECT 1 FROM crm.contacts k
                      WHERE k.merged_into_id = ids.id AND k.kept_on IS NOT NULL)
           OR EXISTS (SELECT 1 FROM crm.contact_addresses a
                      JOIN crm.mailbox_senders s ON s.user_id = a.user_id AND s.address = a.address
                      WHERE a.contact_id = ids.id AND s.decided_by = 'user') AS worked
    FROM ids
), next AS (
    SELECT c.id, s.visible, c.kept_on IS NOT NULL OR (c.created AND s.worked) AS kept
    FROM crm.contacts c JOIN state s ON s.id = c.id
    WHERE c.user_id = %(user_id)s AND c.merged_into_id IS NULL
    ORDER BY c.id
    FOR UPDATE OF c
)
UPDATE crm.contacts c
SET created = n.visible OR n.kept,
    kept_on = CASE WHEN n.kept THEN coalesce(c.kept_on, %(now)s) END,
    visible_on = CASE WHEN n.visible OR n.kept THEN coalesce(c.visible_on, %(now)s) END,
    updated_on = %(now)s
FROM next n
WHERE c.id = n.id AND (c.created <> (n.visible OR n.kept) OR (n.kept AND c.kept_on IS NULL))
RETURNING c.id, c.created
