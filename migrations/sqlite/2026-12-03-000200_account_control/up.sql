-- What a member sees of their sessions on /settings: a coarse hint of the device derived from
-- the User-Agent at sign-in ("Firefox on Android"; the raw header is never stored), and when the
-- session was last used (written at most once per session_last_seen_minutes, not per request).
ALTER TABLE sessions ADD COLUMN device_hint TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP;

-- A member's recovery codes: ten single-use codes, only their SHA-256 kept. A used code's row
-- is deleted; making a new set deletes the old one.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recovery_codes_member ON recovery_codes (member_id);
