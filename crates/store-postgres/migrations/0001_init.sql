-- The SQLite schema's tables and columns, so both backends decode rows with
-- parley_store::rows: times are epoch milliseconds (BIGINT), ids are text.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE sub_accounts (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    created_at  BIGINT NOT NULL
);

CREATE TABLE channels (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts(id),
    sub_account_id   TEXT NOT NULL REFERENCES sub_accounts(id),
    business_number  TEXT NOT NULL,
    waba_id          TEXT NOT NULL,
    phone_number_id  TEXT NOT NULL UNIQUE,
    created_at       BIGINT NOT NULL
);
CREATE INDEX channels_sub_account ON channels(sub_account_id, created_at);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE messages (
    umid                 TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL,
    sub_account_id       TEXT NOT NULL,
    channel_id           TEXT NOT NULL,
    direction            TEXT NOT NULL,
    msisdn               TEXT NOT NULL,
    country              TEXT,
    content_type         TEXT NOT NULL,
    content              TEXT NOT NULL,
    client_message_id    TEXT,
    reply_to             TEXT,
    provider_message_id  TEXT,
    user_name            TEXT,
    state                TEXT NOT NULL,
    detail               TEXT,
    error_code           BIGINT,
    error_message        TEXT,
    provider_error_code  TEXT,
    status_at            BIGINT NOT NULL,
    status_rank          INTEGER NOT NULL,
    created_at           BIGINT NOT NULL
);
-- Both are ON CONFLICT targets: duplicates are settled by the index, not by a prior
-- SELECT, so two nodes accepting the same message at once agree on one copy.
CREATE INDEX messages_sub_account_recent ON messages(sub_account_id, created_at);
CREATE UNIQUE INDEX messages_client_message_id
    ON messages(sub_account_id, client_message_id) WHERE client_message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_provider_message_id
    ON messages(channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL;

CREATE TABLE message_statuses (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    umid                 TEXT NOT NULL,
    state                TEXT NOT NULL,
    detail               TEXT,
    error_code           BIGINT,
    error_message        TEXT,
    provider_error_code  TEXT,
    status_at            BIGINT NOT NULL
);
CREATE INDEX message_statuses_umid ON message_statuses(umid, id);

-- Outbound work. A row lives from accept until the provider's answer is recorded.
CREATE TABLE dispatch_queue (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    umid             TEXT NOT NULL UNIQUE,
    channel_id       TEXT NOT NULL,
    msisdn           TEXT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_until      BIGINT,
    handed_off_at    BIGINT,
    attempts         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dispatch_queue_recipient ON dispatch_queue(channel_id, msisdn, seq);

CREATE TABLE conversation_windows (
    channel_id       TEXT NOT NULL,
    msisdn           TEXT NOT NULL,
    last_inbound_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, msisdn)
);
