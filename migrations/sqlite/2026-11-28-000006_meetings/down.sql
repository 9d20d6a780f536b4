DROP TABLE calendar_feeds;
DROP TABLE meeting_rsvps;
DROP TABLE meeting_exceptions;
DROP TABLE meetings;
