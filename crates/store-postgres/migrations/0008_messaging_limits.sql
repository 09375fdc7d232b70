-- WhatsApp's messaging limit (tier) of each business account, as its number-quality
-- webhooks last reported it: the dispatcher paces templates to new users against it.
CREATE TABLE messaging_limits (
    waba_id     TEXT PRIMARY KEY,
    tier        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Why a lane's head waits (pacing: throughput, pair rate, messaging limit; or a retry),
-- shown in message details while it does. Cleared when the lane moves on.
ALTER TABLE dispatch_lanes ADD COLUMN hold_reason TEXT;
