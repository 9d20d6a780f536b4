DROP TABLE mail_requests;
DROP TABLE mail_links;
