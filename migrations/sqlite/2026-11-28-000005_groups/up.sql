-- Boards become findable peer support groups: a category, tags, language, how they meet, a
-- coarse location and a time zone; memberships (with join requests for private groups);
-- versioned ground rules and who accepted which version; proposals for new groups.

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0
);
INSERT INTO categories (slug, name, position) VALUES
    ('grief-and-loss', 'Grief and loss', 1),
    ('health', 'Health and chronic illness', 2),
    ('family', 'Family and parenting', 3),
    ('life-changes', 'Life changes and moving', 4),
    ('recovery', 'Recovery', 5),
    ('identity', 'Identity and community', 6),
    ('other', 'Other', 7);

ALTER TABLE boards ADD COLUMN category_id BIGINT REFERENCES categories (id);
-- Lowercase words separated by single spaces, for search and display.
ALTER TABLE boards ADD COLUMN tags TEXT NOT NULL DEFAULT '';
-- A BCP 47 language tag, such as en or de.
ALTER TABLE boards ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE boards ADD COLUMN meeting_format TEXT NOT NULL DEFAULT 'online'
    CHECK (meeting_format IN ('online', 'in_person', 'hybrid'));
-- A city or region and a country: never an exact address.
ALTER TABLE boards ADD COLUMN city TEXT NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE boards ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0;
-- Name, description and tags, and city and country, lowercased by Hearth (Unicode-aware on both
-- backends) for the directory; groups made before this migration get the database's lowercasing.
ALTER TABLE boards ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN place_text TEXT NOT NULL DEFAULT '';
UPDATE boards SET search_text = lower(name || ' ' || description), place_text = lower(city || ' ' || country);
CREATE INDEX boards_category ON boards (category_id);

-- Who belongs to a group. Private groups take requests that a facilitator approves.
CREATE TABLE memberships (
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('member', 'requested')),
    -- What the member wrote when asking to join.
    message TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    joined_at TIMESTAMP,
    PRIMARY KEY (board_id, member_id)
);
CREATE INDEX memberships_member ON memberships (member_id, state);
CREATE INDEX memberships_requests ON memberships (board_id, state, created_at);

-- Every version of a group's ground rules, and who accepted which.
CREATE TABLE ground_rules_versions (
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    rules TEXT NOT NULL,
    rules_html TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (board_id, version)
);
CREATE TABLE rules_acceptances (
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    accepted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (board_id, member_id, version)
);

-- A member's proposal for a new group, reviewed by moderators and admins.
CREATE TABLE group_proposals (
    id INTEGER PRIMARY KEY,
    proposer_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    description TEXT NOT NULL,
    ground_rules TEXT NOT NULL,
    category_id BIGINT REFERENCES categories (id),
    meeting_format TEXT NOT NULL CHECK (meeting_format IN ('online', 'in_person', 'hybrid')),
    city TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT 'en',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'members', 'private')),
    why TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'approved', 'declined')),
    mentor_id BIGINT REFERENCES members (id) ON DELETE SET NULL,
    decided_by BIGINT REFERENCES members (id) ON DELETE SET NULL,
    decided_at TIMESTAMP,
    decision_reason TEXT NOT NULL DEFAULT '',
    board_id BIGINT REFERENCES boards (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX group_proposals_state ON group_proposals (state, created_at);
CREATE INDEX group_proposals_proposer ON group_proposals (proposer_id, id);
