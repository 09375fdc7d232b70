-- Message templates per WhatsApp Business Account, and every change the provider
-- reported. Deleted templates stay (deleted_at set): their name is blocked for 30 days.
CREATE TABLE templates (
    id                    TEXT PRIMARY KEY,
    account_id            TEXT NOT NULL,
    channel_id            TEXT NOT NULL,
    waba_id               TEXT NOT NULL,
    name                  TEXT NOT NULL,
    language              TEXT NOT NULL,
    category              TEXT NOT NULL,
    spec                  TEXT NOT NULL,
    status                TEXT NOT NULL,
    reason                TEXT,
    quality               TEXT NOT NULL,
    provider_template_id  TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    deleted_at            INTEGER
);
CREATE UNIQUE INDEX templates_live ON templates(waba_id, name, language)
    WHERE deleted_at IS NULL;
CREATE INDEX templates_name ON templates(waba_id, name, deleted_at);
CREATE INDEX templates_created ON templates(waba_id, created_at);
CREATE INDEX templates_channel ON templates(channel_id, name, language);

CREATE TABLE template_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    template_id  TEXT NOT NULL,
    at           INTEGER NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT,
    quality      TEXT NOT NULL,
    category     TEXT NOT NULL
);
CREATE INDEX template_events_template ON template_events(template_id, id);
