-- Zoho Desk agents as last fetched, their bindings to PBX extensions (one to one), and agents
-- that vanished from Zoho and lost their binding (shown on the page until the next refresh).
CREATE TABLE zoho_agent (
    agent_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    active INTEGER NOT NULL,
    position INTEGER NOT NULL,
    seen_at BIGINT NOT NULL
);

CREATE TABLE agent_binding (
    agent_id TEXT PRIMARY KEY REFERENCES zoho_agent (agent_id) ON DELETE CASCADE,
    extension_id INTEGER NOT NULL UNIQUE REFERENCES pbx_extension (extension_id) ON DELETE CASCADE,
    manual INTEGER NOT NULL,
    bound_at BIGINT NOT NULL
);

CREATE TABLE vanished_agent (
    agent_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    extension_number TEXT,
    vanished_at BIGINT NOT NULL
);
