-- A member who asked to leave: carried out by the worker in `hearth serve` once due_at has
-- passed (the cooling-off period), unless they cancel first. mode is 'delete' (their words go)
-- or 'anonymise' (their words stay, under "a former member").
CREATE TABLE account_departures (
    member_id BIGINT PRIMARY KEY NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    mode TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL
);
CREATE INDEX account_departures_due ON account_departures (due_at);

-- The username of a member who left, held so that nobody registers it to pass as them until
-- held_until.
CREATE TABLE retired_usernames (
    username_lower TEXT PRIMARY KEY NOT NULL,
    retired_at TIMESTAMP NOT NULL,
    held_until TIMESTAMP NOT NULL
);

-- Each download of a member's data, counted for the daily limit.
CREATE TABLE data_exports (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX data_exports_member ON data_exports (member_id, created_at);

-- Deleted posts whose text is still kept, for the retention purge.
CREATE INDEX posts_deleted_at ON posts (deleted_at) WHERE deleted_at IS NOT NULL;
