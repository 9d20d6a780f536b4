-- How long before a meeting a member going to it is reminded, in minutes (0: never).
ALTER TABLE notification_preferences ADD COLUMN reminder_minutes INTEGER NOT NULL DEFAULT 60
    CHECK (reminder_minutes >= 0);

-- The reminders sent: one per member and meeting date, whichever node or run sent it. The
-- key is claimed before the notification is written, in the same transaction, so two nodes
-- (or a restart) never remind twice.
CREATE TABLE meeting_reminders (
    meeting_id BIGINT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    occurrence_local TIMESTAMP NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (meeting_id, occurrence_local, member_id)
);
