DROP INDEX posts_visible_position;
CREATE INDEX posts_visible_position ON posts (thread_id, moderation, state, position);
