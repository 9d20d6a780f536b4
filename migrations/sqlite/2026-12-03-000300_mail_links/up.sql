-- One-time links sent by mail: a new address's verification (address_lower: the address it
-- verifies) and a password reset. Only the SHA-256 of the token is kept; a link works once
-- (used_at) and until expires_at. Counting a member's and an address's verification rows in a
-- window is the limit on verification mails.
CREATE TABLE mail_links (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    address_lower TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX mail_links_member ON mail_links (member_id, purpose, created_at);
CREATE INDEX mail_links_address ON mail_links (address_lower, created_at);

-- Password-reset requests, counted whether or not they matched an account: key_hash is an HMAC
-- (under a site secret) of the network address or of the address or name typed, never either
-- itself. Deleted once older than the window that counts them.
CREATE TABLE mail_requests (
    id INTEGER PRIMARY KEY,
    key_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX mail_requests_key ON mail_requests (key_hash, created_at);
