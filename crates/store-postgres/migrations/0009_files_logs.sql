-- Hosted files (the files API and media users sent, re-hosted): the bytes are in the
-- media storage under files/{file_name}; this row says whose they are, what they are,
-- who may read them (the token's hash) and until when. A row is written pending before
-- the bytes and marked written after, so the cleaner also finds writes a crash cut short.
CREATE TABLE hosted_files (
    file_name       TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    sub_account_id  TEXT NOT NULL,
    mime            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    origin          TEXT NOT NULL,
    token_hash      TEXT NOT NULL,
    written         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX hosted_files_expiry ON hosted_files(expires_at);

-- Log export jobs: queued, then claimed (with a lease, so a dead node's job is taken
-- over), then succeeded with a file and a download link, empty, failed or cancelled.
CREATE TABLE log_exports (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    sub_account_id  TEXT NOT NULL,
    status          TEXT NOT NULL,
    request         TEXT NOT NULL,
    unmasked        BOOLEAN NOT NULL DEFAULT FALSE,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    file_key        TEXT,
    download_token  TEXT UNIQUE,
    row_count       BIGINT,
    expires_at      BIGINT,
    error           TEXT
);
CREATE INDEX log_exports_waiting ON log_exports(status, created_at);

-- Whether an account's log exports show phone numbers and content in the clear.
ALTER TABLE accounts ADD COLUMN logs_unmasked BOOLEAN NOT NULL DEFAULT FALSE;

-- The message log pages newest first across an account, or through one user's messages.
CREATE INDEX messages_account_recent ON messages(account_id, created_at, umid);
CREATE INDEX messages_msisdn_recent ON messages(msisdn, created_at, umid);
DROP INDEX messages_sub_account_recent;
CREATE INDEX messages_sub_account_recent ON messages(sub_account_id, created_at, umid);
