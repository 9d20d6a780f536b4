-- The threads' first posts (`hearth_core::health::first_posts`), read from this index alone: the
-- site's count of first posts still waiting for an answer (`/metrics`) and the staff's first
-- posts of a window of days (`/moderation/health`). Without it both walked every post of their
-- span through `posts_created` and read each row to learn its position: for the count, every
-- post ever made. Not a partial index (`WHERE position = 1`): SQLite compiles a statement again
-- whenever a bound value decides whether a partial index applies, and the board and thread
-- pages bind the position they join on.
CREATE INDEX posts_first ON posts (position, created_at, thread_id, state, moderation, author_id);
