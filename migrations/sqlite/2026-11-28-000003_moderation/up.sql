-- Moderation: facilitators per board, board bans, moderator hiding and pre-moderation of posts,
-- the review queue, the moderation log, notices from the moderators, and watched words.

-- A facilitator (peer specialist) moderates the boards an admin assigned them to.
CREATE TABLE board_facilitators (
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    added_by BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (board_id, member_id)
);
CREATE INDEX board_facilitators_member ON board_facilitators (member_id);

-- A member banned from one board can still read it but not post there, until `until` (NULL: until lifted).
CREATE TABLE board_bans (
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    until TIMESTAMP,
    reason TEXT NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (board_id, member_id)
);
CREATE INDEX board_bans_member ON board_bans (member_id);

-- The first N posts of members new to a board await approval (0: none do).
ALTER TABLE boards ADD COLUMN premod_first_posts INTEGER NOT NULL DEFAULT 0;

-- Apart from the author's own `state` (published / deleted): what moderation made of it.
-- 'awaiting' approval is seen by its author and the board's moderators only; 'hidden' by a
-- moderator shows its author the reason, and others a short notice.
ALTER TABLE posts ADD COLUMN moderation TEXT NOT NULL DEFAULT 'visible'
    CHECK (moderation IN ('visible', 'awaiting', 'hidden'));
ALTER TABLE posts ADD COLUMN hidden_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE threads ADD COLUMN moderation TEXT NOT NULL DEFAULT 'visible'
    CHECK (moderation IN ('visible', 'awaiting', 'hidden'));

-- What needs a moderator's eye: reports by members, posts awaiting approval, crisis check-ins
-- and watched-word flags. Priority 0 (someone may be at risk) comes before 1, then oldest first.
CREATE TABLE review_items (
    id INTEGER PRIMARY KEY,
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('report', 'awaiting', 'check_in', 'watched_word')),
    reason TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    reporter_id BIGINT REFERENCES members (id) ON DELETE SET NULL,
    priority INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    created_at TIMESTAMP NOT NULL,
    resolved_by BIGINT REFERENCES members (id) ON DELETE SET NULL,
    resolved_at TIMESTAMP,
    resolution TEXT NOT NULL DEFAULT '',
    resolution_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX review_items_board_queue ON review_items (board_id, state, priority, created_at);
CREATE INDEX review_items_queue ON review_items (state, priority, created_at);
CREATE INDEX review_items_post ON review_items (post_id, state);
-- One open report per member per post.
CREATE UNIQUE INDEX review_items_one_open_report ON review_items (post_id, reporter_id)
    WHERE kind = 'report' AND state = 'open';

-- Every moderator action, written in the same transaction as the action.
CREATE TABLE moderation_log (
    id INTEGER PRIMARY KEY,
    board_id BIGINT REFERENCES boards (id) ON DELETE SET NULL,
    actor_id BIGINT NOT NULL REFERENCES members (id),
    action TEXT NOT NULL,
    post_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    thread_id BIGINT REFERENCES threads (id) ON DELETE SET NULL,
    member_id BIGINT REFERENCES members (id) ON DELETE SET NULL,
    reason TEXT NOT NULL DEFAULT '',
    -- A short plain-text excerpt of the post acted on; never shown publicly for at-risk posts.
    excerpt TEXT NOT NULL DEFAULT '',
    at_risk BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX moderation_log_board ON moderation_log (board_id, id);

-- Private messages from the moderators to one member (warnings, suspensions, hidden posts).
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notices_member ON notices (member_id, id);

-- Admin-managed words and phrases, matched whole-word and case-insensitively.
CREATE TABLE watched_words (
    id INTEGER PRIMARY KEY,
    phrase TEXT NOT NULL,
    phrase_lower TEXT NOT NULL UNIQUE,
    action TEXT NOT NULL CHECK (action IN ('block', 'hold', 'flag', 'mask')),
    created_by BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL
);
