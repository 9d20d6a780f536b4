DROP TABLE recent_registrations;
