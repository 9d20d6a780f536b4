-- Notifications by e-mail (issue 13): how each member wants them, which notifications still
-- wait for a mail, and the mails the scheduler has claimed.

-- When the news a notification holds began to wait for a mail: set when it is written (and
-- kept while later news joins the row), cleared when a mail takes it. An unread row with it set
-- has news not yet mailed; mailed_at is when a mail last took it.
ALTER TABLE notifications ADD COLUMN mail_pending_since TIMESTAMP;
ALTER TABLE notifications ADD COLUMN mailed_at TIMESTAMP;
-- The scheduler looks up one member's unread news waiting for a mail.
CREATE INDEX notifications_mail_pending ON notifications (member_id, mail_pending_since)
    WHERE mail_pending_since IS NOT NULL AND read_at IS NULL;

-- never (the default: many members are anonymous), now (as it happens, batched per thread),
-- daily, weekly (on digest_weekday: 0 Monday … 6 Sunday), at digest_hour in the member's zone.
-- Quiet hours are minutes of the day in their zone (from, to; may wrap midnight; NULL: off).
-- private_words: mail from private groups includes the thread's title and the post's words.
ALTER TABLE notification_preferences ADD COLUMN email_mode TEXT NOT NULL DEFAULT 'never'
    CHECK (email_mode IN ('never', 'now', 'daily', 'weekly'));
ALTER TABLE notification_preferences ADD COLUMN digest_hour INTEGER NOT NULL DEFAULT 7
    CHECK (digest_hour BETWEEN 0 AND 23);
ALTER TABLE notification_preferences ADD COLUMN digest_weekday INTEGER NOT NULL DEFAULT 0
    CHECK (digest_weekday BETWEEN 0 AND 6);
ALTER TABLE notification_preferences ADD COLUMN quiet_from INTEGER
    CHECK (quiet_from BETWEEN 0 AND 1439);
ALTER TABLE notification_preferences ADD COLUMN quiet_to INTEGER
    CHECK (quiet_to BETWEEN 0 AND 1439);
ALTER TABLE notification_preferences ADD COLUMN private_words BOOLEAN NOT NULL DEFAULT FALSE;
-- The scheduler walks the members who chose mail (few: the default is never), every minute.
CREATE INDEX notification_preferences_mail ON notification_preferences (member_id)
    WHERE email_mode <> 'never';

-- The mails the scheduler queued, one row per member and period: a thread's quarter hour
-- ("now:t42:2026-12-01T16:45"), a day's or a week's digest ("daily:2026-12-01"). The row is
-- claimed in the transaction that queues the mail, so two nodes or a restart never send one
-- twice; the rows of the last day count a member's mails against their daily limit.
CREATE TABLE notification_mails (
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    digest BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (member_id, period)
);
CREATE INDEX notification_mails_recent ON notification_mails (member_id, created_at);
-- Rows past a week are deleted hourly.
CREATE INDEX notification_mails_age ON notification_mails (created_at);
