-- A member's e-mail address: optional, at most one per member. Nothing but the verification
-- link is sent to it until verified_at is set.
CREATE TABLE email_addresses (
    member_id BIGINT PRIMARY KEY NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    address_lower TEXT NOT NULL UNIQUE,
    verified_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

-- Mail waiting to be sent, written in the transaction of what causes it and sent by the worker
-- in `hearth serve`, never inside a request. A sender claims a row by setting claimed_until (a
-- lease): a process killed mid-send leaves a lease that runs out, and the mail is sent again
-- under the same Message-ID (message_token), so no mail is lost. Rows of a deleted member go
-- with them.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    member_id BIGINT REFERENCES members (id) ON DELETE CASCADE,
    to_address TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    unsubscribe_url TEXT,
    message_token TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    send_after TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_until TIMESTAMP,
    last_error TEXT,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (send_after) WHERE sent_at IS NULL;
CREATE INDEX outbox_member ON outbox (member_id);
