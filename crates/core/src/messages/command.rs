//! The typed send: one message to send, from whoever sends it. The API parses 8x8's JSON
//! into a [`SendCommand`] with [`SendCommand::from_8x8`] (the one parser; an automation's
//! ChatAppsMessage step has the same `content` and uses it too); campaigns and agents
//! build one directly. [`crate::messages::MessageService::send`] takes nothing else.

use parley_store::Origin;
use parley_types::{ChannelId, SubAccountId};
use serde_json::Value;

use super::request::SendRequest;
use crate::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct SendCommand {
    pub sub_account: SubAccountId,
    /// The subaccount's channel to send with (`None`: its WhatsApp channel).
    pub channel: Option<ChannelId>,
    /// Who gets what, and when: recipient, typed content, `clientMessageId`, the quoted
    /// message, receipt URL, schedule and expiry.
    pub message: SendRequest,
    pub origin: Origin,
}

impl SendCommand {
    /// A send in 8x8's Chat Apps JSON (`Send-Message`'s body).
    pub fn from_8x8(sub_account: SubAccountId, body: &Value, origin: Origin) -> Result<Self> {
        Ok(Self {
            sub_account,
            channel: None,
            message: SendRequest::parse(body)?,
            origin,
        })
    }
}
