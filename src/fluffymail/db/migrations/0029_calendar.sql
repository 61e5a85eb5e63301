-- Calendar (issue 14): meetings from Google Calendar (the Gmail connection's OAuth grant, the
-- calendar.readonly scope) and from imported .ics files, joined to contacts by attendee
-- address, shown in the contact's timeline, counted in the relationship score
-- (crm/relationships/SCORING.md, "Meetings") and feeding the "met, no mail since" follow-up.
--
-- A meeting is keyed by its calendar and the event's id: `calendar` is 'google:<connection>'
-- (the event id Google gives each instance, singleEvents=true) or 'ics' (the iCalendar UID,
-- with the occurrence's start for an expanded recurrence), so re-syncing or re-importing
-- updates rather than duplicates. The user's own addresses are not attendees (their answer is
-- `self_response`); attendees join contacts by address at query time, as mail links do, so a
-- person who becomes a contact later (or is merged) brings their meetings along.

CREATE TABLE crm.meetings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    connection_id bigint REFERENCES crm.connections (id) ON DELETE CASCADE,  -- NULL: .ics
    calendar      text NOT NULL CHECK (calendar <> ''),
    event_id      text NOT NULL CHECK (event_id <> ''),
    title         text NOT NULL DEFAULT '',
    location      text NOT NULL DEFAULT '',
    starts_on     timestamptz NOT NULL,
    ends_on       timestamptz NOT NULL,
    all_day       boolean NOT NULL DEFAULT false,
    organizer     text,
    self_response text CHECK (self_response IN ('needsAction', 'declined', 'tentative', 'accepted')),
    attendees     integer NOT NULL DEFAULT 0,  -- people other than the user
    created_on    timestamptz NOT NULL DEFAULT now(),
    updated_on    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, calendar, event_id),
    CHECK (ends_on >= starts_on)
);
CREATE INDEX meetings_connection_idx ON crm.meetings (connection_id) WHERE connection_id IS NOT NULL;

CREATE TABLE crm.meeting_attendees (
    meeting_id bigint NOT NULL REFERENCES crm.meetings (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL,
    address    text NOT NULL,
    name       text NOT NULL DEFAULT '',
    response   text NOT NULL DEFAULT 'needsAction'
               CHECK (response IN ('needsAction', 'declined', 'tentative', 'accepted')),
    organizer  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (meeting_id, address)
);
CREATE INDEX meeting_attendees_address_idx ON crm.meeting_attendees (user_id, address, meeting_id);

-- Addresses whose meetings changed since the relationship analysis last ran: it recomposes
-- the scores of their contacts and forgets them (a meeting is not folded into the mail state).
CREATE TABLE crm.meeting_rescore (
    user_id bigint NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    address text NOT NULL,
    PRIMARY KEY (user_id, address)
);

-- Google Calendar sync state of a Gmail connection: its sync token, when it last finished,
-- and why it could not (no calendar scope granted: reconnect).
ALTER TABLE crm.connections
    ADD COLUMN calendar_cursor jsonb,
    ADD COLUMN calendar_synced_on timestamptz,
    ADD COLUMN calendar_error text;

ALTER TABLE crm.followups DROP CONSTRAINT followups_reason_check;
ALTER TABLE crm.followups ADD CONSTRAINT followups_reason_check
    CHECK (reason IN ('cadence', 'cold', 'question', 'promise', 'met'));

-- The figures view gains the meetings the score counts (past, not declined by either side,
-- at most 20 other attendees) and the last of them; the other columns are unchanged.
CREATE OR REPLACE VIEW crm.contact_figures AS
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
       END AS updating,
       coalesce(mt.meetings, 0) AS meetings,
       mt.last_meeting_at
FROM crm.contacts c
LEFT JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
LEFT JOIN crm.relationship_runs run ON run.user_id = c.user_id
LEFT JOIN crm.relationship_folds f ON f.user_id = c.user_id AND f.contact_id = c.id
LEFT JOIN LATERAL (
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
) k ON c.merged_into_id IS NULL AND c.suppressed_reason IS NULL
LEFT JOIN LATERAL (
    SELECT count(DISTINCT mm.id) AS meetings, max(mm.starts_on) AS last_meeting_at
    FROM (SELECT a.address FROM crm.contact_addresses a WHERE a.contact_id = c.id
          UNION ALL
          SELECT a.address
          FROM crm.contacts m
          JOIN crm.contact_addresses a ON a.contact_id = m.id
          WHERE m.merged_into_id = c.id) own
    JOIN crm.meeting_attendees ma ON ma.user_id = c.user_id AND ma.address = own.address
    JOIN crm.meetings mm ON mm.id = ma.meeting_id
    WHERE ma.response <> 'declined' AND mm.self_response IS DISTINCT FROM 'declined'
      AND mm.attendees <= 20 AND mm.starts_on <= now()
) mt ON c.merged_into_id IS NULL AND c.suppressed_reason IS NULL;
