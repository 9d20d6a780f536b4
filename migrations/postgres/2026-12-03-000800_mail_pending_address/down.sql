ALTER TABLE mail_links DROP COLUMN address;
