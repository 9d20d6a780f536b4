DROP INDEX posts_author_created;
ALTER TABLE threads DROP COLUMN slow_mode_seconds;
DROP TABLE sign_in_failures;
