-- What answers a first post (`hearth_core::health::first_posts::answers_from`: a visible,
-- published later reply by someone else, made by the moment read) from this index alone:
-- the dashboard's "first reply" of every first post of its window, the unanswered lane and the
-- `/metrics` gauge probe each thread's replies, and without the author and the time in the
-- index each probe read every reply's row. The thread page's reads of it (counts and the read
-- marker) keep their prefix.
DROP INDEX posts_visible_position;
CREATE INDEX posts_visible_position ON posts (thread_id, moderation, state, position, author_id, created_at);
