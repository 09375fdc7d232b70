-- How each customer endpoint has been answering, written when that changes: a failure
-- after successes, a streak long enough to mark it failing, a success after failures.
CREATE TABLE webhook_endpoints (
    account_id     TEXT NOT NULL,
    url            TEXT NOT NULL,
    -- Every attempt since then failed; NULL once one succeeds.
    failing_since  BIGINT,
    -- Failing for longer than webhooks.failing_after_seconds: probed at a slow pace.
    failing        BOOLEAN NOT NULL,
    last_error     TEXT,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (account_id, url)
);
