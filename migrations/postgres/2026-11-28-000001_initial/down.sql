DROP TABLE post_revisions;
DROP TABLE posts;
DROP TABLE threads;
DROP TABLE boards;
DROP TABLE setup_tokens;
DROP TABLE sessions;
DROP TABLE members;
