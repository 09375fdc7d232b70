-- Per-message pricing: the provider's category, recorded from receipts, and Parley's
-- charge, made once a billable message reached the user (`delivered_at`).
ALTER TABLE messages ADD COLUMN pricing_category TEXT;
ALTER TABLE messages ADD COLUMN pricing_type TEXT;
ALTER TABLE messages ADD COLUMN billable BOOLEAN;
ALTER TABLE messages ADD COLUMN delivered_at BIGINT;
ALTER TABLE messages ADD COLUMN cost_micros BIGINT;
ALTER TABLE messages ADD COLUMN price_tier BIGINT;
CREATE INDEX messages_usage ON messages(account_id, delivered_at) WHERE delivered_at IS NOT NULL;

-- How many messages each account was charged for in a month, per category and market
-- (country calling code): the next one's place in the volume tiers.
CREATE TABLE pricing_volume (
    account_id    TEXT NOT NULL,
    period        TEXT NOT NULL,
    category      TEXT NOT NULL,
    calling_code  TEXT NOT NULL,
    charged       BIGINT NOT NULL,
    PRIMARY KEY (account_id, period, category, calling_code)
);

-- Free entry points: a user from an ad (`referred_at`) answered within a day gets 72 free
-- hours from that answer (`free_entry_until`).
ALTER TABLE conversation_windows ADD COLUMN referred_at BIGINT;
ALTER TABLE conversation_windows ADD COLUMN free_entry_until BIGINT;
