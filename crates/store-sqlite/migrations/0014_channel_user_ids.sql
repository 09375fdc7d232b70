-- WhatsApp's business-scoped user id (BSUID, `US.1349…`) of the user a message is with:
-- from the inbound webhook's contacts, a receipt's recipient_user_id, or the send that
-- named the user by it (8x8's user.channelUserId). A send by id finds the user's number
-- through it, newest first.
ALTER TABLE messages ADD COLUMN channel_user_id TEXT;
CREATE INDEX messages_channel_user ON messages (account_id, channel_user_id, created_at)
    WHERE channel_user_id IS NOT NULL;
