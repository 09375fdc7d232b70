//! The 8x8 send request (`reference/chatapps-api.md` §2.1), parsed at the edge into typed
//! values. Input is read leniently (any casing of `type`, coordinates as strings, national
//! numbers with a country); every broken rule answers with its documented 8x8 code and a
//! message naming the field.

use chrono::{DateTime, Utc};
use parley_types::codes::SyncCode;
use parley_types::{Msisdn, MsisdnError, Umid};
use serde_json::{Map, Value};

use super::content::{Content, ContentKind};
use crate::{Error, Result};

pub const MAX_CLIENT_MESSAGE_ID_CHARS: usize = 50;

/// Fields 8x8 documents that this release does not act on yet. Accepting them silently
/// would send something other than what was asked (e.g. SMS fallback that never happens).
const NOT_YET_SUPPORTED: &[&str] = &["channels"];

/// Who a send goes to: a number, or WhatsApp's business-scoped id for the user (8x8's
/// `user.channelUserId`, e.g. `US.13491208655302741918`), which the account must have
/// heard from WhatsApp before. With both, the number wins, as 8x8 documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Number(Msisdn),
    ChannelUser(String),
}

/// Most alphanumerics after a business-scoped id's country code (Meta: up to 128).
const MAX_CHANNEL_USER_ID_CHARS: usize = 128;

/// Whether `id` has the shape of a business-scoped user id: an upper-case ISO 3166 alpha-2
/// code, a period, then alphanumerics (a parent id has `ENT.` in between).
pub(crate) fn is_channel_user_id(id: &str) -> bool {
    let Some((country, rest)) = id.split_once('.') else {
        return false;
    };
    let rest = rest.strip_prefix("ENT.").unwrap_or(rest);
    country.len() == 2
        && country.chars().all(|c| c.is_ascii_uppercase())
        && !rest.is_empty()
        && rest.len() <= MAX_CHANNEL_USER_ID_CHARS
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
}

#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    pub recipient: Recipient,
    pub content: Content,
    pub client_message_id: Option<String>,
    pub reply_to: Option<Umid>,
    /// Where this message's delivery receipts go instead of the CADR webhook.
    pub dlr_callback_url: Option<String>,
    /// Send it then, not now.
    pub scheduled: Option<DateTime<Utc>>,
    /// Drop it if it has not gone out by then.
    pub expiry: Option<DateTime<Utc>>,
}

/// An 8x8 date-time: RFC 3339 (`2026-01-04T08:19:45.99Z`, or with an offset); read
/// leniently, a time without a zone is UTC.
fn date_time(
    body: &Map<String, Value>,
    key: &str,
    code: SyncCode,
    meaning: &str,
) -> Result<Option<DateTime<Utc>>> {
    let Some(raw) = string(body, key, key)?.map(str::trim) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            raw.parse::<chrono::NaiveDateTime>()
                .map(|naive| naive.and_utc())
        })
        .map(Some)
        .map_err(|_| {
            invalid(
                code,
                format!(
                    "{meaning}: '{key}' must be an ISO 8601 date-time, e.g. 2026-01-04T08:19:45Z"
                ),
            )
        })
}

fn invalid(code: SyncCode, message: impl Into<String>) -> Error {
    Error::invalid(code, message)
}

fn wrong_type(path: &str, expected: &str) -> Error {
    invalid(
        SyncCode::InvalidParameters,
        format!("Invalid parameter(s): '{path}' must be {expected}"),
    )
}

fn object<'a>(body: &'a Map<String, Value>, key: &str) -> Result<Option<&'a Map<String, Value>>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(wrong_type(key, "an object")),
    }
}

fn string<'a>(body: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a str>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(path, "a string")),
    }
}

pub fn as_object(body: &Value) -> Result<&Map<String, Value>> {
    body.as_object().ok_or_else(|| {
        invalid(
            SyncCode::InvalidParameter,
            "Invalid parameter(s): the request body must be a JSON object",
        )
    })
}

impl SendRequest {
    pub fn parse(body: &Value) -> Result<Self> {
        let body = as_object(body)?;
        let user = object(body, "user")?
            .ok_or_else(|| invalid(SyncCode::MissedUser, "Missed user: 'user' is required"))?;
        let recipient = parse_user(user)?;
        let kind = string(body, "type", "type")?.ok_or_else(|| {
            invalid(
                SyncCode::InvalidContentType,
                "Invalid content type: 'type' is required",
            )
        })?;
        let kind = ContentKind::parse(kind)?;
        let content = object(body, "content")?.ok_or_else(|| {
            invalid(
                SyncCode::MissedContent,
                "Missed content: 'content' is required",
            )
        })?;
        let content = Content::parse(kind, content)?;
        let client_message_id =
            string(body, "clientMessageId", "clientMessageId")?.map(str::to_owned);
        if client_message_id
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_CLIENT_MESSAGE_ID_CHARS)
        {
            return Err(invalid(
                SyncCode::ClientMessageIdTooLong,
                format!(
                    "ClientMessageId too long: at most {MAX_CLIENT_MESSAGE_ID_CHARS} characters"
                ),
            ));
        }
        let reply_to = match object(body, "context")? {
            None => None,
            Some(context) => {
                let umid = string(context, "umid", "context.umid")?.ok_or_else(|| {
                    invalid(
                        SyncCode::MissedUmid,
                        "Missed UMID: 'context.umid' is required",
                    )
                })?;
                Some(
                    umid.trim()
                        .parse::<Umid>()
                        .map_err(|_| wrong_type("context.umid", "a UUID"))?,
                )
            }
        };
        let dlr_callback_url = string(body, "dlrCallbackUrl", "dlrCallbackUrl")?
            .map(str::trim)
            .filter(|url| !url.is_empty());
        if dlr_callback_url.is_some_and(|url| !crate::input::is_web_url(url)) {
            return Err(invalid(
                SyncCode::InvalidDrCallbackUrl,
                "Invalid DR callback URL: 'dlrCallbackUrl' must be an absolute http(s) URL",
            ));
        }
        let scheduled = date_time(
            body,
            "scheduled",
            SyncCode::InvalidScheduleTime,
            "Invalid schedule time",
        )?;
        let expiry = date_time(body, "expiry", SyncCode::InvalidExpiry, "Invalid expiry")?;
        if let (Some(scheduled), Some(expiry)) = (scheduled, expiry)
            && expiry <= scheduled
        {
            return Err(invalid(
                SyncCode::InvalidExpiry,
                "Invalid expiry: 'expiry' must be after 'scheduled'",
            ));
        }
        if let Some(field) = NOT_YET_SUPPORTED
            .iter()
            .find(|f| !matches!(body.get(**f), None | Some(Value::Null)))
        {
            return Err(Error::NotImplemented(format!(
                "'{field}' is not supported by this Parley release yet"
            )));
        }
        Ok(Self {
            recipient,
            content,
            client_message_id,
            reply_to,
            dlr_callback_url: dlr_callback_url.map(str::to_owned),
            scheduled,
            expiry,
        })
    }
}

fn parse_user(user: &Map<String, Value>) -> Result<Recipient> {
    let country = string(user, "country", "user.country")?;
    if let Some(c) = country
        && (c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()))
    {
        return Err(invalid(
            SyncCode::InvalidChatAppsCountry,
            "Invalid country code: 'user.country' must be an ISO 3166 alpha-2 code",
        ));
    }
    let Some(raw) = string(user, "msisdn", "user.msisdn")? else {
        return match string(user, "channelUserId", "user.channelUserId")?.map(str::trim) {
            Some(id) if is_channel_user_id(id) => Ok(Recipient::ChannelUser(id.to_owned())),
            Some(_) => Err(invalid(
                SyncCode::InvalidParameters,
                "Invalid parameter(s): 'user.channelUserId' must be a WhatsApp business-scoped user id, e.g. US.13491208655302741918",
            )),
            None => Err(invalid(
                SyncCode::MissedMsisdn,
                "Missed MSISDN: 'user.msisdn' or 'user.channelUserId' is required",
            )),
        };
    };
    Msisdn::parse(raw, country)
        .map(Recipient::Number)
        .map_err(|e| match e {
            MsisdnError::NotE164 => invalid(
                SyncCode::InvalidMsisdn,
                "Invalid MSISDN format (not E.164 international number): 'user.msisdn'",
            ),
            MsisdnError::InvalidCountry => invalid(
                SyncCode::InvalidChatAppsCountry,
                "Invalid country code: 'user.country' is not a known country",
            ),
        })
}

/// `POST …/events`: `{channel, type, umid}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypingRequest {
    pub umid: Umid,
}

impl TypingRequest {
    pub fn parse(body: &Value) -> Result<Self> {
        let body = as_object(body)?;
        let required = |key: &str| {
            string(body, key, key)?.ok_or_else(|| {
                invalid(
                    SyncCode::InvalidParameters,
                    format!("Invalid parameter(s): '{key}' is required"),
                )
            })
        };
        let channel = required("channel")?;
        if !channel.eq_ignore_ascii_case("whatsapp") {
            return Err(invalid(
                SyncCode::InvalidParameters,
                format!(
                    "Invalid parameter(s): 'channel' {channel:?} is not supported; use \"whatsapp\""
                ),
            ));
        }
        let kind = required("type")?;
        if !kind.eq_ignore_ascii_case("typing") {
            return Err(invalid(
                SyncCode::InvalidParameters,
                "Invalid parameter(s): 'type' must be \"typing\"",
            ));
        }
        let umid = required("umid")?
            .trim()
            .parse()
            .map_err(|_| wrong_type("umid", "a UUID"))?;
        Ok(Self { umid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn number(raw: &str) -> Recipient {
        Recipient::Number(Msisdn::parse(raw, None).unwrap())
    }

    fn code(body: Value) -> u32 {
        match SendRequest::parse(&body) {
            Err(Error::Invalid { code, .. }) => code.code(),
            Err(Error::NotImplemented(_)) => 2001,
            other => panic!("expected an error for {body}, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_text_parses() {
        let req = SendRequest::parse(&json!({
            "user": {"msisdn": "+6591234567"}, "type": "Text", "content": {"text": "hi"},
            "clientMessageId": "c-1", "context": {"umid": "0190a0b2-7c3e-7000-8000-000000000000"},
            "unknownExtra": {"ignored": true}
        }))
        .unwrap();
        assert_eq!(req.recipient, number("+6591234567"));
        assert_eq!(req.client_message_id.as_deref(), Some("c-1"));
        assert!(req.reply_to.is_some());
    }

    #[test]
    fn times_are_read_as_8x8_writes_them() {
        let req = SendRequest::parse(&json!({
            "user": {"msisdn": "+6591234567"}, "type": "text", "content": {"text": "hi"},
            "scheduled": "2030-01-04T08:19:45.99Z", "expiry": "2030-01-04T18:00:00+08:00"
        }))
        .unwrap();
        assert_eq!(
            req.scheduled.unwrap().to_rfc3339(),
            "2030-01-04T08:19:45.990+00:00"
        );
        assert_eq!(
            req.expiry.unwrap().to_rfc3339(),
            "2030-01-04T10:00:00+00:00"
        );
        let naive = SendRequest::parse(&json!({
            "user": {"msisdn": "+6591234567"}, "type": "text", "content": {"text": "hi"},
            "scheduled": "2030-01-04T08:00:00"
        }))
        .unwrap();
        assert_eq!(
            naive.scheduled.unwrap().to_rfc3339(),
            "2030-01-04T08:00:00+00:00"
        );
    }

    #[test]
    fn national_numbers_use_the_country() {
        let req = SendRequest::parse(&json!({
            "user": {"msisdn": "91234567", "country": "SG"}, "type": "text", "content": {"text": "hi"}
        }))
        .unwrap();
        assert_eq!(req.recipient, number("+6591234567"));
    }

    #[test]
    fn a_business_scoped_user_id_may_name_the_user() {
        let to = |user: Value| {
            SendRequest::parse(&json!({"user": user, "type": "text", "content": {"text": "hi"}}))
                .map(|r| r.recipient)
        };
        assert_eq!(
            to(json!({"channelUserId": "US.13491208655302741918"})).unwrap(),
            Recipient::ChannelUser("US.13491208655302741918".into())
        );
        assert_eq!(
            to(json!({"channelUserId": "US.ENT.11815799212886844830"})).unwrap(),
            Recipient::ChannelUser("US.ENT.11815799212886844830".into())
        );
        assert_eq!(
            to(json!({"msisdn": "+6591234567", "channelUserId": "US.1"})).unwrap(),
            number("+6591234567"),
            "the number wins"
        );
        for bad in ["15551234567", "us.1", "US.", "USA.1", "US.12-34"] {
            assert_eq!(
                code(
                    json!({"user": {"channelUserId": bad}, "type": "text", "content": {"text": "hi"}})
                ),
                1005,
                "{bad}"
            );
        }
        assert_eq!(
            code(json!({"user": {}, "type": "text", "content": {"text": "hi"}})),
            3002
        );
    }

    #[test]
    fn every_documented_rule_has_its_code() {
        let text = json!({"text": "hi"});
        assert_eq!(code(json!([1, 2])), 1000);
        assert_eq!(code(json!({"type": "text", "content": text})), 3001);
        assert_eq!(
            code(json!({"user": "x", "type": "text", "content": text})),
            1005
        );
        assert_eq!(
            code(json!({"user": {}, "type": "text", "content": text})),
            3002
        );
        assert_eq!(
            code(json!({"user": {"msisdn": "12"}, "type": "text", "content": text})),
            1002
        );
        assert_eq!(
            code(json!({"user": {"msisdn": 6591234567u64}, "type": "text", "content": text})),
            1005
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "9123", "country": "SGP"}, "type": "text", "content": text})
            ),
            3018
        );
        assert_eq!(
            code(json!({"user": {"msisdn": "+6591234567"}, "content": text})),
            3010
        );
        assert_eq!(
            code(json!({"user": {"msisdn": "+6591234567"}, "type": "fax", "content": text})),
            3010
        );
        assert_eq!(
            code(json!({"user": {"msisdn": "+6591234567"}, "type": "text"})),
            3004
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "+6591234567"}, "type": "text", "content": text, "clientMessageId": "x".repeat(51)})
            ),
            3009
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "+6591234567"}, "type": "text", "content": text, "clientMessageId": 7})
            ),
            1005
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "+6591234567"}, "type": "text", "content": text, "context": {}})
            ),
            3029
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "+6591234567"}, "type": "text", "content": text, "context": {"umid": "nope"}})
            ),
            1005
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "+6591234567"}, "type": "text", "content": text, "dlrCallbackUrl": "ftp://x"})
            ),
            3020
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "+6591234567"}, "type": "text", "content": text, "scheduled": "tomorrow"})
            ),
            1011
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "+6591234567"}, "type": "text", "content": text, "expiry": 17})
            ),
            1005
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "+6591234567"}, "type": "text", "content": text,
                       "scheduled": "2030-01-01T10:00:00Z", "expiry": "2030-01-01T11:00:00+02:00"})
            ),
            1006
        );
        assert_eq!(
            code(
                json!({"user": {"msisdn": "+6591234567"}, "type": "text", "content": text, "channels": ["sms"]})
            ),
            2001
        );
    }

    #[test]
    fn typing_requests_are_checked() {
        let umid = "0190a0b2-7c3e-7000-8000-000000000000";
        assert!(
            TypingRequest::parse(&json!({"channel": "WhatsApp", "type": "typing", "umid": umid}))
                .is_ok()
        );
        assert!(
            TypingRequest::parse(&json!({"channel": "rcs", "type": "typing", "umid": umid}))
                .is_err()
        );
        assert!(TypingRequest::parse(&json!({"channel": "whatsapp", "type": "typing"})).is_err());
    }
}
