-- Batches, timed sending and opt-outs (issue 5).
ALTER TABLE messages ADD COLUMN batch_id TEXT;
ALTER TABLE messages ADD COLUMN client_batch_id TEXT;
-- When the sender asked for the message to go out; NULL: at once.
ALTER TABLE messages ADD COLUMN scheduled_at INTEGER;
-- The message is dropped (undelivered, "Expired") if it has not been handed to WhatsApp
-- by then.
ALTER TABLE messages ADD COLUMN expires_at INTEGER;
CREATE INDEX messages_batch ON messages(batch_id) WHERE batch_id IS NOT NULL;

-- Messages waiting for their time. They stay out of the dispatch lanes until due, so a
-- message scheduled for tomorrow does not hold back today's messages to the same user;
-- cancelling one is deleting its row here.
CREATE TABLE scheduled_messages (
    umid    TEXT PRIMARY KEY,
    due_at  INTEGER NOT NULL
);
CREATE INDEX scheduled_messages_due ON scheduled_messages(due_at);

-- An account's do-not-contact list: numbers that said STOP (`keyword`) or were put on
-- it through the Contacts API (`api`). Marketing messages to them are refused.
CREATE TABLE opt_outs (
    account_id  TEXT NOT NULL,
    msisdn      TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, msisdn)
);
