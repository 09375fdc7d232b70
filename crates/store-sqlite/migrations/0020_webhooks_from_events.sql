-- The customer's webhooks become a consumer of the event log (issue 23): the outbox is
-- filled from `events` by the `webhooks` consumer, no longer by triggers on each change
-- table. `event_seq` is the event a row reports, unique, so a batch handled twice (the
-- consumer stopped before its checkpoint moved) adds nothing twice. Changes made before
-- this migration already have their rows: the consumer starts after them.
DROP TRIGGER message_status_event;
DROP TRIGGER template_change_event;
DROP TRIGGER business_change_event;
ALTER TABLE webhook_events ADD COLUMN event_seq INTEGER;
CREATE UNIQUE INDEX webhook_events_event ON webhook_events(event_seq);
INSERT INTO event_consumers (name, position, owner, lease_until, updated_at)
SELECT 'webhooks', COALESCE(MAX(seq), 0), NULL, NULL, 0 FROM events WHERE true
ON CONFLICT (name) DO NOTHING;
