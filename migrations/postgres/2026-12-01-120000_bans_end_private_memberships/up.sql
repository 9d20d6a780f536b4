-- A ban from a private group now ends the membership (moderation::actions). Bans made before
-- that left their members in: end those memberships too, and count each group's members again.
DELETE FROM memberships
WHERE EXISTS (
    SELECT 1 FROM board_bans
    JOIN boards ON boards.id = board_bans.board_id
    WHERE board_bans.board_id = memberships.board_id
      AND board_bans.member_id = memberships.member_id
      AND boards.visibility = 'private'
      AND (board_bans.until IS NULL OR board_bans.until > (now() AT TIME ZONE 'UTC'))
);
UPDATE boards SET member_count = (
    SELECT COUNT(*) FROM memberships
    WHERE memberships.board_id = boards.id AND memberships.state = 'member'
)
WHERE visibility = 'private';
