-- Times are epoch milliseconds; ids are text. See docs/decisions.md.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE sub_accounts (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    created_at  INTEGER NOT NULL
);

CREATE TABLE channels (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts(id),
    sub_account_id   TEXT NOT NULL REFERENCES sub_accounts(id),
    business_number  TEXT NOT NULL,
    waba_id          TEXT NOT NULL,
    phone_number_id  TEXT NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL
);
CREATE INDEX channels_sub_account ON channels(sub_account_id, created_at);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
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
    error_code           INTEGER,
    error_message        TEXT,
    provider_error_code  TEXT,
    status_at            INTEGER NOT NULL,
    status_rank          INTEGER NOT NULL,
    created_at           INTEGER NOT NULL
);
CREATE INDEX messages_sub_account_recent ON messages(sub_account_id, created_at);
CREATE UNIQUE INDEX messages_client_message_id
    ON messages(sub_account_id, client_message_id) WHERE client_message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_provider_message_id
    ON messages(channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL;

CREATE TABLE message_statuses (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    umid                 TEXT NOT NULL,
    state                TEXT NOT NULL,
    detail               TEXT,
    error_code           INTEGER,
    error_message        TEXT,
    provider_error_code  TEXT,
    status_at            INTEGER NOT NULL
);
CREATE INDEX message_statuses_umid ON message_statuses(umid, id);

-- Outbound work. A row lives from accept until the provider's answer is recorded.
CREATE TABLE dispatch_queue (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    umid             TEXT NOT NULL UNIQUE,
    channel_id       TEXT NOT NULL,
    msisdn           TEXT NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    handed_off_at    INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dispatch_queue_recipient ON dispatch_queue(channel_id, msisdn, seq);

CREATE TABLE conversation_windows (
    channel_id       TEXT NOT NULL,
    msisdn           TEXT NOT NULL,
    last_inbound_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, msisdn)
);
