-- Accounts made in the last day, per address, for registration throttling across every server
-- process. `key_hash` is the SHA-256 (hex) of `register:<address>` (IPv6: its /64 network): no
-- address is stored. Rows older than a day are deleted.
CREATE TABLE recent_registrations (
    id INTEGER PRIMARY KEY,
    key_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recent_registrations_key ON recent_registrations (key_hash, created_at);
CREATE INDEX recent_registrations_created ON recent_registrations (created_at);
