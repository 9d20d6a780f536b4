ALTER TABLE threads DROP COLUMN lock_reason;
