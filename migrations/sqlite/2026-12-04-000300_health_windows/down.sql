DROP INDEX members_created;
DROP INDEX posts_created;
