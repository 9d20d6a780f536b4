-- The address a verification link is for, as the member typed it. A new address waits here,
-- on its link, until it is verified: the member's verified address (email_addresses) keeps
-- getting reset and notification mail meanwhile, and an address someone else holds can be
-- asked for without taking or revealing anything.
ALTER TABLE mail_links ADD COLUMN address TEXT;
