-- How far each member has read each thread: the highest post position they have seen, and
-- when. Written by the thread page only when it moves forward (`forum::reads`), never back.
CREATE TABLE thread_reads (
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    last_read_position INTEGER NOT NULL,
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (member_id, thread_id)
);

-- Counting the posts a reader has not seen yet (visible, published, after their marker) reads
-- this index only: one range of it per listed thread.
CREATE INDEX posts_visible_position ON posts (thread_id, moderation, state, position);
