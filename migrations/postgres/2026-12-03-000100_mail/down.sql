DROP TABLE outbox;
DROP TABLE email_addresses;
