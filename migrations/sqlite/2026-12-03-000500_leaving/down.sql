DROP INDEX posts_deleted_at;
DROP TABLE data_exports;
DROP TABLE retired_usernames;
DROP TABLE account_departures;
