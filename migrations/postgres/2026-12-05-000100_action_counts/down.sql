DELETE FROM reactions WHERE taken_back_at IS NOT NULL;
ALTER TABLE reactions DROP COLUMN taken_back_at;
DROP TABLE action_counts;
