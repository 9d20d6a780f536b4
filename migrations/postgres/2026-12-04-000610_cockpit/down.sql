DROP INDEX moderation_log_member;
DROP INDEX memberships_requested;
