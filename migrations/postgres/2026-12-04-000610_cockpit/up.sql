-- The facilitator's cockpit: join requests waiting are counted in the header on every page a
-- moderator loads (staff count them on every group, so the index leads with the state), and
-- beside a queued post stand its author's earlier warnings. Not a partial index: SQLite
-- compiles a statement again each time a value bound to the indexed condition changes, and
-- every signed-in page's membership statement binds the state.
CREATE INDEX memberships_requested ON memberships (state, board_id);
CREATE INDEX moderation_log_member ON moderation_log (member_id, action, id);
