-- Notifications in the app: what happened that a member should hear about, grouped while
-- unread ("3 new replies in …"), and how closely each member follows each thread and group.

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    -- While unread, what groups this notification with later ones of its kind (the thread,
    -- the group, the conversation, the meeting); NULL once read, and for kinds never grouped.
    open_key BIGINT,
    board_id BIGINT REFERENCES boards (id) ON DELETE CASCADE,
    thread_id BIGINT REFERENCES threads (id) ON DELETE CASCADE,
    -- The first post it tells about (where its link goes), its position, and the position of
    -- the latest: a grouped notification tells of the visible posts between the two.
    post_id BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    first_position INTEGER,
    last_position INTEGER,
    conversation_id BIGINT,
    meeting_id BIGINT REFERENCES meetings (id) ON DELETE CASCADE,
    -- Who did it last (NULL for Hearth itself, or a member since gone).
    actor_id BIGINT REFERENCES members (id) ON DELETE SET NULL,
    count INTEGER NOT NULL DEFAULT 1,
    -- Words written by Hearth or the moderators (a moderation outcome); never a member's post.
    body TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE UNIQUE INDEX notifications_open ON notifications (member_id, kind, open_key);
-- The bell: the unread rows of one member and their counts, from the index alone (every
-- page reads it; a grouped row counting one more rewrites its entry).
CREATE INDEX notifications_unread ON notifications (member_id, read_at, count);
-- The list, newest first.
CREATE INDEX notifications_recent ON notifications (member_id, id);
CREATE INDEX notifications_thread ON notifications (thread_id, member_id);
CREATE INDEX notifications_post ON notifications (post_id);

-- Posts whose readers are still to be told. Written in the post's transaction (one row, so a
-- post costs the same whoever follows it), delivered right after it and, past the first batch,
-- by a worker in `hearth serve`, a batch of members per transaction: `done_through` is the
-- highest member id told, committed with that batch, so a batch is never told twice.
CREATE TABLE notification_jobs (
    id INTEGER PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    -- The members the post names (mentions) and answers (quotes), as comma-separated ids.
    mentions TEXT NOT NULL DEFAULT '',
    replies_to TEXT NOT NULL DEFAULT '',
    -- The post was shown before (a held edit approved again): members who read past it are
    -- not told of it again.
    shown_before BOOLEAN NOT NULL DEFAULT FALSE,
    done_through BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notification_jobs_post ON notification_jobs (post_id);

-- Who muted an author, found by the author (every delivery asks).
CREATE INDEX mutes_muted ON mutes (muted_id, member_id);

-- The moderators' notices are notifications now, of the kind `moderation`.
INSERT INTO notifications (member_id, kind, body, created_at, updated_at, read_at)
SELECT member_id, 'moderation', body, created_at, created_at, read_at FROM notices ORDER BY id;
DROP TABLE notices;

-- How closely a member follows one thread or one group: watching, following, normal, muted.
-- No row means the member's default (`notification_preferences`) or normal.
CREATE TABLE thread_subscriptions (
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    level TEXT NOT NULL CHECK (level IN ('watching', 'following', 'normal', 'muted')),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (thread_id, member_id)
);
CREATE INDEX thread_subscriptions_member ON thread_subscriptions (member_id, level);

CREATE TABLE board_subscriptions (
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    level TEXT NOT NULL CHECK (level IN ('watching', 'following', 'normal', 'muted')),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (board_id, member_id)
);
CREATE INDEX board_subscriptions_member ON board_subscriptions (member_id);

-- A member's own defaults: how closely they follow threads they start and threads they reply to.
CREATE TABLE notification_preferences (
    member_id BIGINT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    started_level TEXT NOT NULL CHECK (started_level IN ('watching', 'following', 'normal', 'muted')),
    replied_level TEXT NOT NULL CHECK (replied_level IN ('watching', 'following', 'normal', 'muted')),
    updated_at TIMESTAMP NOT NULL
);

-- Threads already written in: their authors watch them and those who replied follow them,
-- as they would have had these tables existed.
INSERT INTO thread_subscriptions (member_id, thread_id, level, updated_at)
SELECT author_id, id, 'watching', created_at FROM threads;
INSERT INTO thread_subscriptions (member_id, thread_id, level, updated_at)
SELECT DISTINCT posts.author_id, posts.thread_id, 'following', threads.created_at
FROM posts JOIN threads ON threads.id = posts.thread_id
WHERE posts.author_id <> threads.author_id;
