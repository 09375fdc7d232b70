-- Dispatch work is handed out per lane: the messages of one channel to one recipient,
-- which leave one at a time in the order they were accepted. Claiming reads due lanes by
-- their `ready_at` index, so it costs the same with ten queued messages or a million
-- (finding each recipient's oldest queued message by scanning the queue did not).
-- A lane row stays when its queue empties (`ready_at` NULL), like a conversation window.
CREATE TABLE dispatch_lanes (
    channel_id     TEXT NOT NULL,
    msisdn         TEXT NOT NULL,
    -- The lane's head: its oldest queued message, the only one that may be in flight.
    -- Kept on the lane (not looked up in the queue) so that claiming a lane and learning
    -- its head happen on one row, which concurrent claims and completions lock.
    head_umid      TEXT UNIQUE,
    -- When the head may be tried; NULL together with head_umid: nothing queued.
    ready_at       INTEGER,
    -- Set while a worker holds the lane; the head is free again once it has passed.
    lease_until    INTEGER,
    -- Set once the head was handed to the provider, until its outcome is recorded.
    handed_off_at  INTEGER,
    -- Attempts at the current head.
    attempts       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, msisdn)
);
CREATE INDEX dispatch_lanes_ready ON dispatch_lanes(ready_at) WHERE ready_at IS NOT NULL;
CREATE INDEX dispatch_lanes_handed_off ON dispatch_lanes(lease_until)
    WHERE handed_off_at IS NOT NULL;

-- Work in flight keeps its state: each recipient's oldest queued row becomes its lane.
INSERT INTO dispatch_lanes
    (channel_id, msisdn, head_umid, ready_at, lease_until, handed_off_at, attempts)
SELECT q.channel_id, q.msisdn, q.umid, q.next_attempt_at, q.lease_until, q.handed_off_at,
       q.attempts
FROM dispatch_queue q
WHERE NOT EXISTS (SELECT 1 FROM dispatch_queue p
                  WHERE p.channel_id = q.channel_id AND p.msisdn = q.msisdn AND p.seq < q.seq);

ALTER TABLE dispatch_queue DROP COLUMN lease_until;
ALTER TABLE dispatch_queue DROP COLUMN handed_off_at;
ALTER TABLE dispatch_queue DROP COLUMN attempts;
