DROP TABLE meeting_reminders;
ALTER TABLE notification_preferences DROP COLUMN reminder_minutes;
