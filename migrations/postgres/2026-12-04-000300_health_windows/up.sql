-- Community health (`hearth_core::health`) reads a window of days: the site's posts of the last
-- 30 or 90 days from this index alone (without it, every post of every thread is read), and
-- the accounts made in it.
CREATE INDEX posts_created ON posts (created_at, moderation, state, thread_id);
CREATE INDEX members_created ON members (created_at);
