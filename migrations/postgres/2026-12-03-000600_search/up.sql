-- The search index: one row per visible, published post, its thread's title (opening post
-- only, weight A) and plain text (weight B) in the text search configuration of its group's
-- language ('simple' where PostgreSQL has none). It follows each write path of posts in its
-- own transaction (`search::index`); a deleted post row takes its row along.
CREATE TABLE post_search (
    post_id BIGINT PRIMARY KEY NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    document TSVECTOR NOT NULL
);
CREATE INDEX post_search_document ON post_search USING GIN (document);

-- Searches counted per member or visitor's address (a keyed hash) and minute, so the limit
-- holds across processes and restarts. Old minutes are purged hourly.
CREATE TABLE search_counts (
    subject TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    searches INTEGER NOT NULL,
    PRIMARY KEY (subject, window_start)
);
