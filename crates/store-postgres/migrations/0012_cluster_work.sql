-- Claims take turns across subaccounts and channels: each channel's due lanes are read
-- oldest first from this index, so a claim costs the same however long another
-- channel's backlog is.
CREATE INDEX dispatch_lanes_channel_ready ON dispatch_lanes(channel_id, ready_at)
    WHERE ready_at IS NOT NULL;

-- Nodes wake each other: a statement that queues messages notifies `parley_dispatch` when
-- its transaction commits (once per transaction, however many rows), and idle dispatchers
-- of every node, which LISTEN on it, claim at once instead of at their next poll.
CREATE FUNCTION parley_notify_dispatch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('parley_dispatch', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER dispatch_queue_notify AFTER INSERT ON dispatch_queue
    FOR EACH STATEMENT EXECUTE FUNCTION parley_notify_dispatch();
