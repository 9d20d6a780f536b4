-- The search index: one row per visible, published post (rowid = posts.id), the thread's title
-- with its opening post only, the post's plain text (rendered from its source, never HTML).
-- Contentless: the words are in posts already, and a deleted post's text must not linger in a
-- copy. The index follows each write path of posts in its own transaction (`search::index`);
-- a post row deleted outright (a purge) leaves it through the trigger below.
CREATE VIRTUAL TABLE post_search USING fts5(
    title,
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER post_search_forget AFTER DELETE ON posts BEGIN
    DELETE FROM post_search WHERE rowid = old.id;
END;

-- Searches counted per member or visitor's address (a keyed hash) and minute, so the limit
-- holds across processes and restarts. Old minutes are purged hourly.
CREATE TABLE search_counts (
    subject TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    searches INTEGER NOT NULL,
    PRIMARY KEY (subject, window_start)
);
