-- Calls in (issue 5): every event as received (its id unique, so a redelivery changes
-- nothing), one state row per call, and the facts the call model derived from them.
CREATE TABLE call_event (
    event_id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    extension TEXT,
    at_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX call_event_by_call ON call_event (call_id, at_ms);

CREATE TABLE pbx_call (
    call_id TEXT PRIMARY KEY,
    direction TEXT NOT NULL,
    external_number TEXT,
    -- The outside number's canonical form (E.164 when it can be read, else its digits).
    number_key TEXT,
    -- Every extension the call touched, space-separated with a space at both ends (filters).
    extensions TEXT NOT NULL,
    call_type TEXT,
    is_open INTEGER NOT NULL,
    first_at_ms BIGINT NOT NULL,
    last_at_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX pbx_call_by_time ON pbx_call (first_at_ms);
CREATE INDEX pbx_call_open ON pbx_call (is_open, last_at_ms);
CREATE INDEX pbx_call_number ON pbx_call (number_key);

CREATE TABLE call_fact (
    fact_id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    extension TEXT,
    -- The Zoho Desk agent bound to the extension when the fact was made.
    agent_id TEXT,
    -- Why the fact means no Zoho work: `unbound`, `disabled`, `not_connected`; NULL: for Zoho.
    skip TEXT,
    at_ms BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX call_fact_by_call ON call_fact (call_id, fact_id);

-- Secrets the app generates for itself (the call-event webhook secret), sealed like the others.
CREATE TABLE app_secret (
    name TEXT PRIMARY KEY,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
