-- Hearth's first schema (SQLite). Times are UTC, stored as TIMESTAMP text by diesel.
CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    username_lower TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    pronouns TEXT NOT NULL DEFAULT '',
    bio TEXT NOT NULL DEFAULT '',
    bio_html TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    password_hash TEXT NOT NULL,
    site_role TEXT NOT NULL DEFAULT 'member' CHECK (site_role IN ('member', 'moderator', 'admin')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    suspended_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    post_count BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_member ON sessions (member_id);

CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE boards (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    ground_rules TEXT NOT NULL DEFAULT '',
    ground_rules_html TEXT NOT NULL DEFAULT '',
    ground_rules_version INTEGER NOT NULL DEFAULT 1,
    visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'members', 'private')),
    position INTEGER NOT NULL DEFAULT 0,
    thread_count BIGINT NOT NULL DEFAULT 0,
    post_count BIGINT NOT NULL DEFAULT 0,
    last_activity_at TIMESTAMP,
    last_thread_id BIGINT,
    created_by BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    board_id BIGINT NOT NULL REFERENCES boards (id),
    author_id BIGINT NOT NULL REFERENCES members (id),
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    state TEXT NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'deleted')),
    reply_count BIGINT NOT NULL DEFAULT 0,
    last_position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    last_activity_at TIMESTAMP NOT NULL,
    last_poster_id BIGINT REFERENCES members (id)
);
-- Board pages: pinned first, then most recent activity; keyset pagination walks this index.
CREATE INDEX threads_board_listing ON threads (board_id, pinned, last_activity_at, id);
CREATE INDEX threads_author ON threads (author_id);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    thread_id BIGINT NOT NULL REFERENCES threads (id),
    author_id BIGINT NOT NULL REFERENCES members (id),
    position INTEGER NOT NULL,
    source TEXT NOT NULL,
    html TEXT NOT NULL,
    render_version INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'deleted')),
    submission_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP,
    deleted_at TIMESTAMP,
    UNIQUE (thread_id, position),
    UNIQUE (author_id, submission_key)
);
CREATE INDEX posts_author ON posts (author_id, id);

CREATE TABLE post_revisions (
    id INTEGER PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts (id),
    editor_id BIGINT NOT NULL REFERENCES members (id),
    source TEXT NOT NULL,
    html TEXT NOT NULL,
    render_version INTEGER NOT NULL,
    replaced_at TIMESTAMP NOT NULL
);
CREATE INDEX post_revisions_post ON post_revisions (post_id, id);
