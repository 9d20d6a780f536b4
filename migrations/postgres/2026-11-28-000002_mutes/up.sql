-- A member can mute another: that member's posts collapse for them, and only for them.
CREATE TABLE mutes (
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    muted_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (member_id, muted_id)
);
