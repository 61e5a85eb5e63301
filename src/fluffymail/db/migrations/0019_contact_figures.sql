-- One number, everywhere (issue 12, section 4): every figure the product shows about a
-- contact (messages, sent, received, threads, two-way threads, first and last contact,
-- strength) is read from `crm.contact_figures`, and nowhere else. The numbers are the
-- relationship analysis's (crm/relationships/SCORING.md, "Figures"); `updating` says the
-- analysis has not yet folded the contact's current mail (new mail, a merge or its undo, a
-- deletion), and every page and the API then say "updating…" instead of the old number.

-- The distinct threads of the contact's mail with the user (the analysis counts them now).
ALTER TABLE crm.relationships ADD COLUMN threads integer NOT NULL DEFAULT 0;

-- Stored states know no thread count yet: forget what was folded, so the next run rebuilds
-- every contact from its mail (until then their figures say "updating").
DELETE FROM crm.relationship_folds;

-- A contact's links counted from the index alone (user, address, then message id: the cursor
-- splits them), so the view's "updating" check reads no table rows; it serves every query the
-- (user_id, address) index it replaces served.
DROP INDEX crm.contact_links_address_idx;
CREATE INDEX contact_links_address_idx ON crm.contact_links (user_id, address, message_id);

CREATE VIEW crm.contact_figures AS
SELECT c.user_id,
       c.id AS contact_id,
       r.sent + r.received AS messages,
       r.sent,
       r.received,
       r.threads,
       r.two_way_threads,
       r.first_at,
       r.last_at,
       round(r.score::numeric, 1)::float8 AS strength,
       r.level,
       r.computed_on,
       CASE
           WHEN c.merged_into_id IS NOT NULL OR c.suppressed_reason IS NOT NULL
               THEN r.contact_id IS NOT NULL          -- a relationship the next run drops
           ELSE coalesce(k.newer, false)               -- mail above the analysis cursor
                OR coalesce(k.links, 0) <> coalesce(f.links, 0)  -- mail moved since the fold
       END AS updating
FROM crm.contacts c
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
LEFT JOIN crm.relationship_runs run ON run.user_id = c.user_id
LEFT JOIN crm.relationship_folds f ON f.user_id = c.user_id AND f.contact_id = c.id
LEFT JOIN LATERAL (
    -- the links the analysis folds for this contact (rel_link_counts.sql): those of its
    -- addresses and of the addresses of contacts merged into it, each read by its index
    SELECT sum(n.links) AS links, bool_or(n.newer) AS newer
    FROM (SELECT a.address FROM crm.contact_addresses a WHERE a.contact_id = c.id
          UNION ALL
          SELECT a.address
          FROM crm.contacts m
          CROSS JOIN LATERAL (
              SELECT address FROM crm.contact_addresses WHERE contact_id = m.id) a
          WHERE m.merged_into_id = c.id) own
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE l.message_id <= coalesce(run.last_message_id, 0)) AS links,
               bool_or(l.message_id > coalesce(run.last_message_id, 0)) AS newer
        FROM crm.contact_links l
        WHERE l.user_id = c.user_id AND l.address = own.address) n
) k ON c.merged_into_id IS NULL AND c.suppressed_reason IS NULL;
