-- The instances alive on this database (docs/decisions.md, 2026-12-05): each writes its
-- heartbeat at start and every minute, and Zoho's requests in flight (a limit per org) are
-- shared out among the instances seen lately.
CREATE TABLE instance_heartbeat (
    name TEXT PRIMARY KEY,
    seen_ms BIGINT NOT NULL
);
