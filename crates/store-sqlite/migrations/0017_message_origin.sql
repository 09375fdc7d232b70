-- Who sent an outbound message (issue 23's typed send): `api`, `batch`, `campaign`,
-- `automation` or `agent`, and what of theirs (`origin_ref`: the campaign, the automation
-- instance and step, the agent and ticket). Inbound messages and messages accepted before
-- this column existed have none.
ALTER TABLE messages ADD COLUMN origin TEXT;
ALTER TABLE messages ADD COLUMN origin_ref TEXT;
