-- The facilitator's cockpit: join requests waiting are counted in the header on every page a
-- moderator loads (staff count them on every group, so the index leads with nothing else), and
-- beside a queued post stand its author's earlier warnings.
CREATE INDEX memberships_requested ON memberships (board_id) WHERE state = 'requested';
CREATE INDEX moderation_log_member ON moderation_log (member_id, action, id);
