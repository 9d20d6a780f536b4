-- Meetings of a group: a series stored as the local wall time of its first meeting plus the
-- IANA zone it is kept in (so a weekly 19:00 stays at 19:00 across daylight-saving changes),
-- its recurrence rule, the exceptions to it (one meeting cancelled or moved), the members'
-- answers per meeting, and each member's private calendar feed (only the token's SHA-256).

CREATE TABLE meetings (
    id INTEGER PRIMARY KEY,
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    agenda TEXT NOT NULL DEFAULT '',
    -- Rendered by hearth-markdown when the meeting was saved.
    agenda_html TEXT NOT NULL DEFAULT '',
    -- The first meeting's local date and time in time_zone (not UTC).
    starts_local TIMESTAMP NOT NULL,
    time_zone TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    repeat TEXT NOT NULL DEFAULT 'none' CHECK (repeat IN ('none', 'weekly', 'monthly')),
    -- Weekly: every this-many weeks.
    interval_weeks INTEGER NOT NULL DEFAULT 1,
    -- Monthly: the nth weekday of the month (1 to 4), or -1 for the last.
    month_week INTEGER,
    -- The series ends on this local date (inclusive), or after this many meetings, or never.
    until_date DATE,
    occurrence_count INTEGER,
    -- Shown to the group's members only; never in a public page or feed.
    online_url TEXT NOT NULL DEFAULT '',
    place TEXT NOT NULL DEFAULT '',
    capacity INTEGER,
    state TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'cancelled')),
    -- UTC end of the last meeting of a bounded series (NULL: it goes on), for listing queries.
    series_ends_at TIMESTAMP,
    -- Bumped on every change (iCalendar SEQUENCE).
    sequence INTEGER NOT NULL DEFAULT 0,
    created_by BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX meetings_board ON meetings (board_id, state);

-- One meeting of a series cancelled or moved, keyed by its original local start.
CREATE TABLE meeting_exceptions (
    meeting_id BIGINT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    original_local TIMESTAMP NOT NULL,
    cancelled BOOLEAN NOT NULL DEFAULT FALSE,
    -- The new local start (in the meeting's zone) of a moved meeting.
    moved_to_local TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (meeting_id, original_local)
);

-- A member's answer for one meeting of a series. 'waiting' is the waiting list, in
-- responded_at order.
CREATE TABLE meeting_rsvps (
    meeting_id BIGINT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    occurrence_local TIMESTAMP NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    response TEXT NOT NULL CHECK (response IN ('going', 'maybe', 'not_going', 'waiting')),
    responded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (meeting_id, occurrence_local, member_id)
);
CREATE INDEX meeting_rsvps_member ON meeting_rsvps (member_id, response);
CREATE INDEX meeting_rsvps_answers ON meeting_rsvps (meeting_id, occurrence_local, response, responded_at);

-- A member's private feed of the meetings they are going to: only the token's SHA-256.
CREATE TABLE calendar_feeds (
    member_id BIGINT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
