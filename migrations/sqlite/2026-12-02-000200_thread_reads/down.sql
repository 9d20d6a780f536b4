DROP INDEX posts_visible_position;
DROP TABLE thread_reads;
