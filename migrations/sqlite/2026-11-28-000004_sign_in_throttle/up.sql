-- Recent failed sign-ins, for throttling password guessing across every server process.
-- `key_hash` is the SHA-256 (hex) of `ip:<address>` or `account:<lowercased username>`:
-- no address or name is stored. Rows older than the throttle window are pruned.
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY,
    key_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key_hash, created_at);
CREATE INDEX sign_in_failures_created ON sign_in_failures (created_at);

-- Slow mode: a member may post in the thread once every this many seconds (0: off).
ALTER TABLE threads ADD COLUMN slow_mode_seconds INTEGER NOT NULL DEFAULT 0;

-- Posting limits count a member's posts of the last minute and day.
CREATE INDEX posts_author_created ON posts (author_id, created_at);
