DROP TABLE site_secrets;
