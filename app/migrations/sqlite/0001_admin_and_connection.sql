-- Admin accounts (argon2id hashes), sign-in throttling, and the one Zoho Desk connection.
-- Portable SQL: integers for times (unix seconds), text for the rest; PostgreSQL follows.

CREATE TABLE admin_user (
    admin_user_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Failed sign-ins per key: "user:<name>" and "addr:<ip>".
CREATE TABLE login_failure (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at BIGINT NOT NULL
);

-- The Zoho Desk connection (one row, id 1). Secrets are sealed (AES-256-GCM), never plaintext.
CREATE TABLE zoho_connection (
    connection_id INTEGER PRIMARY KEY CHECK (connection_id = 1),
    accounts_url TEXT NOT NULL,
    desk_url TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    location TEXT,
    refresh_token_sealed TEXT,
    access_token_sealed TEXT,
    access_expires_at BIGINT,
    org_id TEXT,
    org_name TEXT,
    orgs_json TEXT,
    status TEXT NOT NULL,
    last_error TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);
