CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notices_member ON notices (member_id, id);
INSERT INTO notices (member_id, body, created_at, read_at)
SELECT member_id, body, created_at, read_at FROM notifications WHERE kind = 'moderation' ORDER BY id;
DROP TABLE notification_preferences;
DROP TABLE board_subscriptions;
DROP TABLE thread_subscriptions;
DROP TABLE notifications;
