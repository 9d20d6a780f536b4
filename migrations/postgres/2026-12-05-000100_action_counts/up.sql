-- How often a member did something that has a limit, per window (an hour's start, say): one
-- row per subject and window, counted up as it happens and deleted a day later. A count, not
-- a record: it says nothing of what was done. Reactions count their gives here, because a
-- reaction taken back and given again leaves no new row to count.
CREATE TABLE action_counts (
    subject TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (subject, window_start)
);
-- A reaction taken back keeps its row (so giving it again tells its author nothing new):
-- taken_back_at is when, NULL while it stands.
ALTER TABLE reactions ADD COLUMN taken_back_at TIMESTAMP;
