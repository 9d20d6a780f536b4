-- Why a facilitator locked a thread, shown in the thread ("Locked by a facilitator: ...");
-- NULL for an unlocked thread and for threads locked before reasons were asked.
ALTER TABLE threads ADD COLUMN lock_reason TEXT;
