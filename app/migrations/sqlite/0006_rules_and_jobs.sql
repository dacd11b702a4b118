-- The rules (issue 6): their settings, and the durable jobs that carry out Zoho work.

-- One row: the rule settings as JSON (model::RuleSettings); absent = every rule off.
CREATE TABLE rule_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Zoho work. A job is written in the same transaction as the fact that caused it, under a key
-- that names the work (`call:<call id>:ticket`, `number:<number key>:create`), so a second
-- enqueue of the same work is a no-op.
CREATE TABLE job (
    job_id INTEGER PRIMARY KEY,
    job_key TEXT NOT NULL UNIQUE,
    -- contact | create | ticket | call_log
    kind TEXT NOT NULL,
    -- The call it serves (a creation serves every call from its number: the first one's).
    call_id TEXT,
    -- What the job needs to run (JSON).
    payload TEXT NOT NULL,
    -- queued | running | done | failed | cancelled
    state TEXT NOT NULL,
    -- Another job that must be over first (its key).
    waits_for TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- The last attempt may have reached Zoho without us seeing the answer: look before acting.
    uncertain INTEGER NOT NULL DEFAULT 0,
    run_after_ms BIGINT NOT NULL,
    lease_until_ms BIGINT,
    -- On done: what it found or made (JSON); on failed/cancelled: why.
    result TEXT,
    last_error TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX job_ready ON job (state, run_after_ms);
CREATE INDEX job_by_call ON job (call_id);
CREATE INDEX job_waits ON job (waits_for);

-- Every attempt of every job, for the integration log.
CREATE TABLE job_attempt (
    attempt_id INTEGER PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES job (job_id) ON DELETE CASCADE,
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT NOT NULL,
    -- done | retry | failed | waiting | paused | uncertain | cancelled
    outcome TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX job_attempt_by_job ON job_attempt (job_id, attempt_id);
