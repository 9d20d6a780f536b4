DROP INDEX IF EXISTS review_items_message;
DELETE FROM review_items WHERE post_id IS NULL;
CREATE TABLE review_items_old (
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
INSERT INTO review_items_old SELECT id, board_id, post_id, kind, reason, note, reporter_id,
    priority, state, created_at, resolved_by, resolved_at, resolution, resolution_note
FROM review_items;
DROP TABLE review_items;
ALTER TABLE review_items_old RENAME TO review_items;
CREATE INDEX review_items_board_queue ON review_items (board_id, state, priority, created_at);
CREATE INDEX review_items_queue ON review_items (state, priority, created_at);
CREATE INDEX review_items_post ON review_items (post_id, state);
CREATE UNIQUE INDEX review_items_one_open_report ON review_items (post_id, reporter_id)
    WHERE kind = 'report' AND state = 'open';
CREATE INDEX review_items_reporter ON review_items (reporter_id, created_at);
DROP TABLE conversation_reads;
DROP TABLE conversation_messages;
DROP TABLE conversations;
