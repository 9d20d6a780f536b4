-- Secrets of this site that every server process must share, made at random on first use
-- (`accounts::tokens::site_secret`): e.g. the key that signs visitors' CSRF tokens.
CREATE TABLE site_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL
);
