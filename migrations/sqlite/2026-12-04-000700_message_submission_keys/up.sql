-- A message remembers the key of the form that sent it, so a form sent twice (a double tap on
-- "Send", a retry after a timeout) writes one message: the second sending finds the first.
-- Messages written before keys existed keep NULL, which the unique index leaves out (they
-- have nothing to be repeated against); every message written from now on has a key.
ALTER TABLE conversation_messages ADD COLUMN submission_key TEXT;
CREATE UNIQUE INDEX conversation_messages_submission_key
    ON conversation_messages (author_id, submission_key) WHERE submission_key IS NOT NULL;
