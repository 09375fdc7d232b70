-- What kind of channel a number is (issue 23): `whatsapp` for every channel so far; `sms`
-- and `voice` come with their adapters. Each kind has its own adapter and addressing.
ALTER TABLE channels ADD COLUMN kind TEXT NOT NULL DEFAULT 'whatsapp';
