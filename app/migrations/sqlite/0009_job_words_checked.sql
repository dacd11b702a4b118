-- The job queue's words are checked by the database (issue 15): a job's kind and state, and an
-- attempt's outcome, are one of the words the code knows (`model::JobKind`, `JobState`,
-- `AttemptOutcome`). SQLite adds a CHECK only by rebuilding a table; `job_attempt` refers to
-- `job` with ON DELETE CASCADE, so its rows are set aside first, the two tables rebuilt, and the
-- rows put back. Ids are kept.

CREATE TABLE job_new (
    job_id INTEGER PRIMARY KEY,
    job_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('contact', 'create', 'ticket', 'call_log')),
    -- The call it serves (a creation serves every call from its number: the first one's).
    call_id TEXT,
    -- What the job needs to run (JSON: the payload of `queue::Job`'s variant).
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    -- Another job that must be over first (its key).
    waits_for TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- The last attempt may have reached Zoho without us seeing the answer: look before acting.
    uncertain INTEGER NOT NULL DEFAULT 0,
    run_after_ms BIGINT NOT NULL,
    lease_until_ms BIGINT,
    -- On done: what it found or made (JSON: `queue::JobResult`).
    result TEXT,
    last_error TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
INSERT INTO job_new SELECT job_id, job_key, kind, call_id, payload, state, waits_for, attempts,
    uncertain, run_after_ms, lease_until_ms, result, last_error, created_ms, updated_ms FROM job;

CREATE TABLE job_attempt_kept AS SELECT * FROM job_attempt;
DROP TABLE job_attempt;
DROP TABLE job;
ALTER TABLE job_new RENAME TO job;
CREATE INDEX job_ready ON job (state, run_after_ms);
CREATE INDEX job_by_call ON job (call_id);
CREATE INDEX job_waits ON job (waits_for);

CREATE TABLE job_attempt (
    attempt_id INTEGER PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES job (job_id) ON DELETE CASCADE,
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN
        ('done', 'retry', 'uncertain', 'failed', 'waiting', 'paused', 'cancelled')),
    detail TEXT
);
INSERT INTO job_attempt SELECT attempt_id, job_id, started_ms, finished_ms, outcome, detail
    FROM job_attempt_kept;
DROP TABLE job_attempt_kept;
CREATE INDEX job_attempt_by_job ON job_attempt (job_id, attempt_id);
