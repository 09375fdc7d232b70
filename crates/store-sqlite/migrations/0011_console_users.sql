-- People who sign in to the web console (docs/console.md). The password is kept only as
-- an Argon2id hash; a session only as the SHA-256 of its cookie.
CREATE TABLE console_users (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    -- Lower-cased, so one person cannot hold two users by changing case.
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    disabled       INTEGER NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX console_users_account ON console_users(account_id, created_at);

CREATE TABLE console_sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions(user_id);
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);
