-- Sign-in attempts are counted before the password is checked (issue 13): each count also
-- keeps the time of the attempt before it, which decides whether this one is allowed. Keys
-- are now `pair:<kind>:<account>|<address>`, `acct:<kind>:<account>` and `addr:<address>`.
DELETE FROM login_failure;
ALTER TABLE login_failure ADD COLUMN prev_failure_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX login_failure_by_time ON login_failure (last_failure_at);
