//! The 8x8 batch request (`POST …/messages/batch`, `reference/chatapps-api.md` §2.7): the
//! shared `template` merged into each of up to 10,000 messages, which are then validated
//! one by one like single sends.

use chrono::{DateTime, Utc};
use parley_store::{BatchRef, Message};
use parley_types::Umid;
use parley_types::codes::SyncCode;
use serde_json::{Map, Value};

use super::request::as_object;
use crate::{Error, Result};

/// Most messages one batch may carry. 8x8's schema says 10,000 (its prose says 1,000; see
/// `docs/decisions.md`).
pub const MAX_BATCH_MESSAGES: usize = 10_000;
pub const MAX_CLIENT_BATCH_ID_CHARS: usize = 100;

/// Fields of an item that are its own and never come from the shared template.
const PER_MESSAGE: &[&str] = &["user", "clientMessageId", "context"];

/// What became of a batch: its id, and each message in the request's order.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    pub batch: BatchRef,
    pub items: Vec<BatchItem>,
    /// The sender asked for every message's result in the response.
    pub include_messages: bool,
}

impl BatchOutcome {
    pub fn accepted(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, BatchItem::Accepted(_)))
            .count()
    }

    pub fn rejected(&self) -> usize {
        self.items.len() - self.accepted()
    }
}

#[derive(Debug, Clone)]
pub enum BatchItem {
    /// Queued (or, for a repeated `clientMessageId`, the message stored before).
    Accepted(Box<Message>),
    Rejected(Rejection),
}

/// A message of a batch that broke a rule: never stored, answered with its code.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// An id for the sender to tell the rejected messages apart, as 8x8 gives one.
    pub umid: Umid,
    /// `user` as the sender wrote it, as far as it fits 8x8's `User` schema.
    pub user: Value,
    pub client_message_id: Option<String>,
    pub code: SyncCode,
    pub message: String,
    pub at: DateTime<Utc>,
}

impl Rejection {
    pub fn of(item: &Value, code: SyncCode, message: String, at: DateTime<Utc>) -> Self {
        Self {
            umid: Umid::new(),
            user: echoed_user(item.get("user")),
            client_message_id: item
                .get("clientMessageId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            code,
            message,
            at,
        }
    }
}

/// The `user` of a rejected item, echoed so the sender can tell which one it was, but
/// only with what fits 8x8's `User` schema (string `msisdn` and `channelUserId`, a
/// `country` of at most two letters): the answer must stay valid whatever was sent.
fn echoed_user(user: Option<&Value>) -> Value {
    let mut echoed = Map::new();
    if let Some(Value::Object(user)) = user {
        for field in ["msisdn", "channelUserId"] {
            if let Some(Value::String(value)) = user.get(field) {
                echoed.insert(field.to_owned(), Value::String(value.clone()));
            }
        }
        if let Some(Value::String(country)) = user.get("country")
            && country.chars().count() <= 2
        {
            echoed.insert("country".to_owned(), Value::String(country.clone()));
        }
    }
    Value::Object(echoed)
}

#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    pub client_batch_id: Option<String>,
    /// Each message with the template merged in, in the request's order.
    pub messages: Vec<Value>,
    pub include_messages_in_response: bool,
}

fn invalid(code: SyncCode, message: impl Into<String>) -> Error {
    Error::invalid(code, message)
}

impl BatchRequest {
    pub fn parse(body: &Value) -> Result<Self> {
        let body = as_object(body)?;
        let items = match body.get("messages") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(items),
            Some(_) => {
                return Err(invalid(
                    SyncCode::InvalidParameters,
                    "Invalid parameter(s): 'messages' must be an array",
                ));
            }
        }
        .filter(|items| !items.is_empty())
        .ok_or_else(|| {
            invalid(
                SyncCode::MissedMessages,
                "Missed messages: 'messages' must hold at least one message",
            )
        })?;
        if items.len() > MAX_BATCH_MESSAGES {
            return Err(invalid(
                SyncCode::TooManyMessages,
                format!(
                    "Too many messages: a batch holds at most {MAX_BATCH_MESSAGES} messages, this one has {}",
                    items.len()
                ),
            ));
        }
        let client_batch_id = match body.get("clientBatchId") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => {
                return Err(invalid(
                    SyncCode::InvalidParameters,
                    "Invalid parameter(s): 'clientBatchId' must be a string",
                ));
            }
        };
        if client_batch_id
            .as_ref()
            .is_some_and(|id| id.chars().count() > MAX_CLIENT_BATCH_ID_CHARS)
        {
            return Err(invalid(
                SyncCode::ClientBatchIdTooLong,
                format!("ClientBatchId too long: at most {MAX_CLIENT_BATCH_ID_CHARS} characters"),
            ));
        }
        let template = match body.get("template") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(t)) => t.clone(),
            Some(_) => {
                return Err(invalid(
                    SyncCode::InvalidParameters,
                    "Invalid parameter(s): 'template' must be an object",
                ));
            }
        };
        let include_messages_in_response = match body.get("includeMessagesInResponse") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(invalid(
                    SyncCode::InvalidParameters,
                    "Invalid parameter(s): 'includeMessagesInResponse' must be a boolean",
                ));
            }
        };
        Ok(Self {
            client_batch_id,
            messages: items.iter().map(|item| merged(&template, item)).collect(),
            include_messages_in_response,
        })
    }
}

/// The item with whatever it lacks taken from the template. Objects merge key by key (the
/// item wins), so a shared `content.template` with per-user parameters works; anything
/// else in the item replaces the template's value. A non-object item is left as it is
/// (its own validation rejects it).
fn merged(template: &Map<String, Value>, item: &Value) -> Value {
    let Value::Object(own) = item else {
        return item.clone();
    };
    let mut message = own.clone();
    for (key, shared) in template {
        if PER_MESSAGE.contains(&key.as_str()) {
            continue;
        }
        match message.get_mut(key) {
            None | Some(Value::Null) => {
                message.insert(key.clone(), shared.clone());
            }
            Some(mine) => merge_into(mine, shared),
        }
    }
    Value::Object(message)
}

fn merge_into(mine: &mut Value, shared: &Value) {
    if let (Value::Object(mine), Value::Object(shared)) = (mine, shared) {
        for (key, value) in shared {
            match mine.get_mut(key) {
                None | Some(Value::Null) => {
                    mine.insert(key.clone(), value.clone());
                }
                Some(own) => merge_into(own, value),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(body: Value) -> u32 {
        match BatchRequest::parse(&body) {
            Err(Error::Invalid { code, .. }) => code.code(),
            other => panic!("expected an error for {body}, got {other:?}"),
        }
    }

    #[test]
    fn the_template_fills_in_what_each_message_lacks() {
        let batch = BatchRequest::parse(&json!({
            "clientBatchId": "spring",
            "template": {"type": "template", "dlrCallbackUrl": "https://example.com/dr",
                "content": {"template": {"name": "sale", "language": "en"}},
                "user": {"msisdn": "+10000000000"}},
            "messages": [
                {"user": {"msisdn": "+6591234567"},
                 "content": {"template": {"components": {"body": [{"type": "text", "text": "Ann"}]}}}},
                {"user": {"msisdn": "+6591234568"}, "type": "text", "content": {"text": "hi"}},
                "not an object"
            ]
        }))
        .unwrap();
        assert_eq!(batch.client_batch_id.as_deref(), Some("spring"));
        assert!(!batch.include_messages_in_response);
        assert_eq!(
            batch.messages[0],
            json!({"user": {"msisdn": "+6591234567"}, "type": "template",
                   "dlrCallbackUrl": "https://example.com/dr",
                   "content": {"template": {"name": "sale", "language": "en",
                       "components": {"body": [{"type": "text", "text": "Ann"}]}}}})
        );
        assert_eq!(batch.messages[1]["type"], "text");
        assert_eq!(
            batch.messages[1]["user"]["msisdn"], "+6591234568",
            "the user is never shared"
        );
        assert_eq!(batch.messages[2], json!("not an object"));
    }

    #[test]
    fn a_rejected_user_is_echoed_only_as_far_as_the_schema_allows() {
        let echo = |item: Value| {
            Rejection::of(&item, SyncCode::MissedUser, String::new(), Utc::now()).user
        };
        assert_eq!(echo(json!([null, null])), json!({}));
        assert_eq!(echo(json!({"user": null})), json!({}));
        assert_eq!(echo(json!({"user": {"msisdn": {}}})), json!({}));
        assert_eq!(
            echo(json!({"user": {"msisdn": "+6591234567", "country": "000", "x": 1}})),
            json!({"msisdn": "+6591234567"})
        );
        assert_eq!(
            echo(json!({"user": {"msisdn": "91234567", "country": "SG", "channelUserId": "SG.1"}})),
            json!({"msisdn": "91234567", "country": "SG", "channelUserId": "SG.1"})
        );
    }

    #[test]
    fn batch_rules_have_their_codes() {
        assert_eq!(code(json!({})), 3012);
        assert_eq!(code(json!({"messages": []})), 3012);
        assert_eq!(code(json!({"messages": {}})), 1005);
        let many = vec![json!({}); MAX_BATCH_MESSAGES + 1];
        assert_eq!(code(json!({ "messages": many })), 3013);
        assert_eq!(
            code(json!({"messages": [{}], "clientBatchId": "x".repeat(101)})),
            3014
        );
        assert_eq!(code(json!({"messages": [{}], "template": []})), 1005);
        assert!(
            BatchRequest::parse(&json!({"messages": [{}], "clientBatchId": "x".repeat(100)}))
                .is_ok()
        );
    }
}
