DROP TABLE mutes;
