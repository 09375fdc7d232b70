-- Per-message receipt URL (8x8's dlrCallbackUrl), overriding the account's CADR webhook.
ALTER TABLE messages ADD COLUMN dlr_callback_url TEXT;

-- The customer's webhooks (8x8's Configuration API): one URL per account, subaccount
-- ('*' for every subaccount) and kind (CADR receipts, MSG inbound, CABM business events).
CREATE TABLE webhooks (
    account_id          TEXT NOT NULL,
    sub_account_id      TEXT NOT NULL,
    kind                TEXT NOT NULL,
    url                 TEXT NOT NULL,
    enabled             BOOLEAN NOT NULL,
    http_authorization  TEXT,
    oauth               TEXT,
    signing_secret      TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (account_id, sub_account_id, kind)
);

-- Business-management changes the provider reported (number quality, account updates).
CREATE TABLE business_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  TEXT NOT NULL,
    waba_id     TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    details     TEXT NOT NULL,
    at          BIGINT NOT NULL
);

-- The outbox: one row per change a webhook reports, written by the triggers below in the
-- transaction of the change itself, so no change is ever committed without its event.
-- The payload is built at delivery from the change's own row (`source`, `source_id`),
-- which records the state at that moment. Rows are only written when a webhook (or a
-- per-message receipt URL) could take them.
CREATE TABLE webhook_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      TEXT NOT NULL,
    sub_account_id  TEXT,
    kind            TEXT NOT NULL,
    -- 'status' (message_statuses.id), 'template' (template_events.id) or
    -- 'business' (business_events.id).
    source          TEXT NOT NULL,
    source_id       BIGINT NOT NULL,
    -- Events of one lane (a recipient, a template) are delivered one at a time, in order.
    lane            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    -- pending → delivered | dead (after the last attempt) | dropped (no webhook any more).
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    url             TEXT,
    last_error      TEXT,
    finished_at     BIGINT
);
CREATE INDEX webhook_events_lane ON webhook_events(lane, id) WHERE state = 'pending';
CREATE INDEX webhook_events_account ON webhook_events(account_id, id);
CREATE INDEX webhook_events_dead ON webhook_events(account_id, id) WHERE state = 'dead';

-- Delivery is handed out per lane, by the head's due time (as dispatch lanes are).
CREATE TABLE webhook_lanes (
    lane         TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    head_id      BIGINT UNIQUE,
    ready_at     BIGINT,
    lease_until  BIGINT
);
CREATE INDEX webhook_lanes_ready ON webhook_lanes(ready_at) WHERE ready_at IS NOT NULL;

-- Every delivery attempt, for the deliveries API and support.
CREATE TABLE webhook_attempts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    url          TEXT NOT NULL,
    status_code  BIGINT,
    latency_ms   BIGINT NOT NULL,
    error        TEXT
);
CREATE INDEX webhook_attempts_event ON webhook_attempts(event_id, id);

-- An outbound message's every status is a receipt (CADR); an inbound message's first
-- status is its arrival (MSG).
CREATE FUNCTION message_status_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events
        (account_id, sub_account_id, kind, source, source_id, lane, created_at)
    SELECT m.account_id, m.sub_account_id,
           CASE m.direction WHEN 'inbound' THEN 'MSG' ELSE 'CADR' END,
           'status', NEW.id, 'm:' || m.channel_id || ':' || m.msisdn, NEW.status_at
    FROM messages m
    WHERE m.umid = NEW.umid
      AND (m.direction = 'outbound'
           OR NOT EXISTS (SELECT 1 FROM message_statuses p
                          WHERE p.umid = NEW.umid AND p.id < NEW.id))
      AND ((m.direction = 'outbound' AND m.dlr_callback_url IS NOT NULL)
           OR EXISTS (SELECT 1 FROM webhooks w
                      WHERE w.account_id = m.account_id
                        AND w.sub_account_id IN (m.sub_account_id, '*')
                        AND w.kind = CASE m.direction WHEN 'inbound' THEN 'MSG' ELSE 'CADR' END
                        AND w.enabled));
    RETURN NULL;
END $$;
CREATE TRIGGER message_status_event AFTER INSERT ON message_statuses FOR EACH ROW EXECUTE FUNCTION message_status_event();

-- A template's changes after its creation (review outcome, pauses, quality, category).
CREATE FUNCTION template_change_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events
        (account_id, sub_account_id, kind, source, source_id, lane, created_at)
    SELECT t.account_id, NULL, 'CABM', 'template', NEW.id, 't:' || t.id, NEW.at
    FROM templates t
    WHERE t.id = NEW.template_id
      AND EXISTS (SELECT 1 FROM template_events p
                  WHERE p.template_id = NEW.template_id AND p.id < NEW.id)
      AND EXISTS (SELECT 1 FROM webhooks w
                  WHERE w.account_id = t.account_id AND w.kind = 'CABM' AND w.enabled);
    RETURN NULL;
END $$;
CREATE TRIGGER template_change_event AFTER INSERT ON template_events FOR EACH ROW EXECUTE FUNCTION template_change_event();

CREATE FUNCTION business_change_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events
        (account_id, sub_account_id, kind, source, source_id, lane, created_at)
    SELECT NEW.account_id, NULL, 'CABM', 'business', NEW.id, 'b:' || NEW.waba_id, NEW.at
    WHERE EXISTS (SELECT 1 FROM webhooks w
                  WHERE w.account_id = NEW.account_id AND w.kind = 'CABM' AND w.enabled);
    RETURN NULL;
END $$;
CREATE TRIGGER business_change_event AFTER INSERT ON business_events FOR EACH ROW EXECUTE FUNCTION business_change_event();

-- A new event becomes its lane's head if the lane has none.
CREATE FUNCTION webhook_event_lane() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_lanes (lane, account_id, head_id, ready_at)
    VALUES (NEW.lane, NEW.account_id, NEW.id, NEW.created_at)
    ON CONFLICT (lane) DO UPDATE
    SET head_id = COALESCE(webhook_lanes.head_id, EXCLUDED.head_id),
        ready_at = COALESCE(webhook_lanes.ready_at, EXCLUDED.ready_at);
    RETURN NULL;
END $$;
CREATE TRIGGER webhook_event_lane AFTER INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION webhook_event_lane();
