-- How far each channel's provider receipts have been applied (issue 23, the cluster's
-- crash test): `through_at` is the provider's time of the latest receipt applied,
-- `seen_at` Parley's time when it was. A hand-off interrupted by a crash is not taken over
-- (and perhaps sent twice) while its channel's receipts are still coming in and behind it.
CREATE TABLE receipt_progress (
    channel_id TEXT PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    through_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
);
