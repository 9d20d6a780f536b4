DROP INDEX posts_first;
