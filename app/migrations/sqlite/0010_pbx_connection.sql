-- The PBX's OpenAPI (issue 16): where the PBX is, its API application's Client ID (the Client
-- Secret is sealed in app_secret as `pbx_client_secret`), and the last Test connection's outcome.
CREATE TABLE pbx_connection (
    connection_id INTEGER PRIMARY KEY CHECK (connection_id = 1),
    base_url TEXT NOT NULL,
    client_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('untested', 'connected', 'failed')),
    last_error TEXT,
    extension_count BIGINT,
    checked_ms BIGINT,
    updated_ms BIGINT NOT NULL
);
