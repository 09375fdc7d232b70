-- The domain event log: one row per state change something may react to, appended in the
-- transaction of the change. `seq` orders the whole log; consumers read it in that order
-- and keep their own checkpoint. Message events point at their history row (`source_id`:
-- message_statuses.id), template events at template_events.id, business events at
-- business_events.id, so the log itself stays narrow. `payload` holds what a kind needs
-- beyond that (a charge's amount).
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- message.accepted | message.received | message.status | message.charged |
    -- template.changed | business.updated
    kind            TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    sub_account_id  TEXT,
    channel_id      TEXT,
    -- The order key: events of one conversation ('m:<channel>:<msisdn>'), template
    -- ('t:<id>') or business account ('b:<waba>') are consumed in the order appended.
    conversation    TEXT NOT NULL,
    -- The umid, template id or WABA id the event is about.
    subject         TEXT NOT NULL,
    source_id       INTEGER,
    payload         TEXT,
    at              INTEGER NOT NULL
);
-- No index on `at`: pruning walks the oldest events in `seq` order (see `event_rows.rs`),
-- and every index is paid for by every state change.

-- A named consumer's checkpoint (the last `seq` it finished) and who works it right now:
-- one owner at a time, under a lease.
CREATE TABLE event_consumers (
    name         TEXT PRIMARY KEY,
    position     INTEGER NOT NULL,
    owner        TEXT,
    lease_until  INTEGER,
    updated_at   INTEGER NOT NULL
);

-- Counters kept by consumers (the usage counters): per subaccount, channel and UTC day,
-- a metric and a dimension of it (an error code, a pricing category and country, or ''),
-- moved in the transaction that moves the consumer's checkpoint, so every event counts once.
CREATE TABLE event_counters (
    account_id      TEXT NOT NULL,
    sub_account_id  TEXT NOT NULL,
    channel_id      TEXT NOT NULL,
    day             TEXT NOT NULL,
    metric          TEXT NOT NULL,
    dimension       TEXT NOT NULL,
    value           INTEGER NOT NULL,
    PRIMARY KEY (sub_account_id, channel_id, day, metric, dimension)
);
CREATE INDEX event_counters_account ON event_counters(account_id, day);
