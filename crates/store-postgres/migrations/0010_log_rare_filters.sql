-- The log's rare filters: failures and replies are a sliver of a busy account's log, and
-- without an index of their own a page of them scans the whole account. Both indexes are
-- partial, so only the rows they hold cost a write; the log query names the state and
-- direction as literals so that the planner can use them.
CREATE INDEX messages_undelivered ON messages(account_id, created_at, umid)
    WHERE state = 'undelivered';
CREATE INDEX messages_inbound ON messages(account_id, created_at, umid)
    WHERE direction = 'inbound';
