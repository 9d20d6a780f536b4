-- Private conversations. One belongs to a group (a board): a check-in between the group's
-- facilitators (and the site's staff) and one member (`kind` 'group'), or, when the operator
-- allows it, two members who share the group (`kind` 'direct').
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('group', 'direct')),
    started_by BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    -- The member it is with: for 'group', the member the facilitators talk with (who may have
    -- started it); for 'direct', the member the starter wrote to.
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    -- The post it was started from (a check-in in the queue, or a post), if any.
    post_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    last_activity_at TIMESTAMP NOT NULL,
    -- The newest message: a reader has unread messages while their read marker is below it.
    last_message_id BIGINT NOT NULL DEFAULT 0,
    message_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_member ON conversations (member_id, last_activity_at);
CREATE INDEX conversations_started_by ON conversations (started_by, last_activity_at);
CREATE INDEX conversations_board ON conversations (board_id, kind, last_activity_at);

CREATE TABLE conversation_messages (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    html TEXT NOT NULL,
    render_version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    moderation TEXT NOT NULL DEFAULT 'visible'
        CHECK (moderation IN ('visible', 'awaiting', 'hidden')),
    hidden_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX conversation_messages_conversation ON conversation_messages (conversation_id, id);
-- A member's messages, newest first: their message limits are counted here.
CREATE INDEX conversation_messages_author ON conversation_messages (author_id, created_at);

-- How far each reader has read each conversation (one row per reader who opened it).
CREATE TABLE conversation_reads (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    last_read_message_id BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, member_id)
);
CREATE INDEX conversation_reads_member ON conversation_reads (member_id);

-- A review item is about a post, or about a message of a conversation (a check-in a crisis
-- phrase opened, a watched word, a report). SQLite cannot drop NOT NULL, so the table is made
-- again with the same rows and indexes.
CREATE TABLE review_items_new (
    id INTEGER PRIMARY KEY,
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    post_id BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    conversation_id BIGINT REFERENCES conversations (id) ON DELETE CASCADE,
    message_id BIGINT REFERENCES conversation_messages (id) ON DELETE CASCADE,
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
    resolution_note TEXT NOT NULL DEFAULT '',
    CHECK ((post_id IS NULL) <> (conversation_id IS NULL))
);
INSERT INTO review_items_new (id, board_id, post_id, kind, reason, note, reporter_id, priority,
    state, created_at, resolved_by, resolved_at, resolution, resolution_note)
SELECT id, board_id, post_id, kind, reason, note, reporter_id, priority,
    state, created_at, resolved_by, resolved_at, resolution, resolution_note
FROM review_items;
DROP TABLE review_items;
ALTER TABLE review_items_new RENAME TO review_items;
CREATE INDEX review_items_board_queue ON review_items (board_id, state, priority, created_at);
CREATE INDEX review_items_queue ON review_items (state, priority, created_at);
CREATE INDEX review_items_post ON review_items (post_id, state);
CREATE UNIQUE INDEX review_items_one_open_report ON review_items (post_id, reporter_id)
    WHERE kind = 'report' AND state = 'open';
CREATE INDEX review_items_reporter ON review_items (reporter_id, created_at);
CREATE INDEX review_items_conversation ON review_items (conversation_id, state);
CREATE UNIQUE INDEX review_items_one_open_message_report ON review_items (message_id, reporter_id)
    WHERE kind = 'report' AND state = 'open' AND message_id IS NOT NULL;

-- Decisions on a message find its review items.
CREATE INDEX review_items_message ON review_items (message_id);
