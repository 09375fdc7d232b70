-- Durable jobs and timers (crates/jobs). A timer is due at a time and fires exactly once:
-- firing marks it `fired` and appends a `timer.fired` event in one transaction, so every
-- consumer of the event log learns of it. A work job is claimed under a lease by one node,
-- run, and completed; a failure is retried on the job's own schedule (seconds after each
-- attempt, kept as data), then dead-lettered. `key` makes scheduling idempotent.
CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'timer' | 'work'
    kind           TEXT NOT NULL,
    queue          TEXT NOT NULL,
    key            TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    -- The order key of a timer's event (defaults to 'j:<queue>:<key>').
    conversation   TEXT NOT NULL,
    payload        TEXT NOT NULL,
    due_at         INTEGER NOT NULL,
    -- pending → fired (timer) | running → done | dead (work) ; pending → cancelled
    state          TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    -- JSON array of seconds to wait after each failed attempt; past its end: dead.
    retry          TEXT NOT NULL,
    owner          TEXT,
    lease_until    INTEGER,
    last_error     TEXT,
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER
);
CREATE UNIQUE INDEX jobs_key ON jobs(queue, key);
CREATE INDEX jobs_due ON jobs(due_at) WHERE state = 'pending';
CREATE INDEX jobs_leased ON jobs(lease_until) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;
