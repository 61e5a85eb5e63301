-- Relationships going cold (crm.relationships.going_cold, scored by the relationships
-- analysis), each with the last message either way and the evidence's wording.
SELECT r.contact_id, r.last_at,
       coalesce((SELECT e ->> 'text' FROM jsonb_array_elements(r.evidence) e
                 WHERE e ->> 'text' LIKE 'Silent for%%' LIMIT 1), '') AS detail,
       (SELECT l.message_id
        FROM crm.contact_addresses a
        JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
        WHERE a.contact_id = r.contact_id AND a.user_id = r.user_id
          AND l.role IN ('sent_to', 'received_from')
        ORDER BY l.occurred_on DESC NULLS LAST, l.message_id DESC LIMIT 1) AS message_id
FROM crm.relationships r
JOIN crm.contacts c ON c.id = r.contact_id AND c.merged_into_id IS NULL
    AND c.suppressed_reason IS NULL
WHERE r.user_id = %(user_id)s AND r.going_cold
