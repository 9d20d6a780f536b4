-- Support without karma: a member's reactions to a post ("I hear you", "Sending strength", "Me
-- too", "Thank you"), one of each kind per member and post. No score is kept anywhere: counts
-- are read from these rows for the posts of a page.
CREATE TABLE reactions (
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (post_id, member_id, kind)
);
-- The hourly limit counts a member's recent reactions.
CREATE INDEX reactions_member_created ON reactions (member_id, created_at);
