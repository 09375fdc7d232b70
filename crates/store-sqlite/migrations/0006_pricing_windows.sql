-- Per-message pricing: the provider's category, recorded from receipts, and Parley's
-- charge, made once a billable message reached the user (`delivered_at`).
ALTER TABLE messages ADD COLUMN pricing_category TEXT;
ALTER TABLE messages ADD COLUMN pricing_type TEXT;
ALTER TABLE messages ADD COLUMN billable INTEGER;
ALTER TABLE messages ADD COLUMN delivered_at INTEGER;
ALTER TABLE messages ADD COLUMN cost_micros INTEGER;
ALTER TABLE messages ADD COLUMN price_tier INTEGER;
CREATE INDEX messages_usage ON messages(account_id, delivered_at) WHERE delivered_at IS NOT NULL;

-- How many messages each account was charged for in a month, per category and market
-- (country calling code): the next one's place in the volume tiers.
CREATE TABLE pricing_volume (
    account_id    TEXT NOT NULL,
    period        TEXT NOT NULL,
    category      TEXT NOT NULL,
    calling_code  TEXT NOT NULL,
    charged       INTEGER NOT NULL,
    PRIMARY KEY (account_id, period, category, calling_code)
);

-- Free entry points: a user from an ad (`referred_at`) answered within a day gets 72 free
-- hours from that answer (`free_entry_until`).
ALTER TABLE conversation_windows ADD COLUMN referred_at INTEGER;
ALTER TABLE conversation_windows ADD COLUMN free_entry_until INTEGER;
