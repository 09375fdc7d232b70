-- Claims take turns across subaccounts and channels: each channel's due lanes are read
-- oldest first from this index, so a claim costs the same however long another
-- channel's backlog is.
CREATE INDEX dispatch_lanes_channel_ready ON dispatch_lanes(channel_id, ready_at)
    WHERE ready_at IS NOT NULL;
