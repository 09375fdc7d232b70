-- Log exports are built as work jobs of `crates/jobs` (queue `logs.export`, keyed by the
-- export's id), no longer claimed from `log_exports` itself (issue 23). An export queued or
-- being built when this runs gets its job, so none waits forever after the upgrade.
INSERT INTO jobs (kind, queue, key, account_id, conversation, payload, due_at, state,
                  attempts, retry, created_at)
SELECT 'work', 'logs.export', id, account_id, 'j:logs.export:' || id, '{}', created_at,
       'pending', 0, '[10,60,300]', created_at
FROM log_exports
WHERE status IN ('queued', 'running')
ON CONFLICT (queue, key) DO NOTHING;
