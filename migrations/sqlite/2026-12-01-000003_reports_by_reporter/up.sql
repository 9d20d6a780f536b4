-- A member's reports, newest first: their report limits are counted here, and a moderator
-- dismisses all of one member's open reports at once.
CREATE INDEX review_items_reporter ON review_items (reporter_id, created_at);
