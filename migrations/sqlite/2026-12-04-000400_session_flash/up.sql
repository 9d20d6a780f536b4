-- A short confirmation ("Your reply is posted") waiting for the next page this session opens,
-- shown once there and then cleared: kept server side, never in a URL or a readable cookie.
ALTER TABLE sessions ADD COLUMN flash TEXT;
