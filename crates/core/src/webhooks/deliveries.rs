//! Parley's deliveries API, beyond 8x8: what became of each webhook event, every attempt
//! made, and redrive of one event, of a webhook's dead letters or of a time range.

use chrono::{DateTime, Utc};
use parley_store::{EventFilter, EventState, Redrive, WebhookAttempt, WebhookEvent, WebhookKind};
use parley_types::SubAccountId;
use parley_types::time::format_8x8;
use serde::Deserialize;
use serde_json::{Value, json};

use super::payload::event_uuid;
use crate::Result;
use crate::input::{Object, bad_field, invalid, string, text_or_number};

/// Most deliveries on one page.
pub const MAX_PAGE: u32 = 100;
const DEFAULT_PAGE: u32 = 50;

/// The listing's query string, as given.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryQuery {
    pub state: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub sub_account_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

fn kind(raw: &str, field: &str) -> Result<WebhookKind> {
    WebhookKind::parse(raw).ok_or_else(|| bad_field(field, "must be CADR, MSG or CABM"))
}

fn time(raw: &str, field: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad_field(field, "must be an ISO 8601 time with its offset"))
}

fn sub_account(raw: &str, field: &str) -> Result<Option<SubAccountId>> {
    if raw.trim() == parley_store::ALL_SUB_ACCOUNTS {
        return Ok(None);
    }
    SubAccountId::parse(raw.trim())
        .map(Some)
        .map_err(|_| bad_field(field, "is not a subaccount id"))
}

pub fn parse_query(query: &DeliveryQuery) -> Result<EventFilter> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(bad_field("limit", format!("must be 1 to {MAX_PAGE}")));
    }
    Ok(EventFilter {
        state: query
            .state
            .as_deref()
            .map(|s| {
                EventState::parse(&s.trim().to_ascii_lowercase()).ok_or_else(|| {
                    bad_field("state", "must be pending, delivered, dead or dropped")
                })
            })
            .transpose()?,
        kind: query.kind.as_deref().map(|k| kind(k, "type")).transpose()?,
        sub_account_id: match query.sub_account_id.as_deref() {
            Some(raw) => sub_account(raw, "subAccountId")?,
            None => None,
        },
        from: query.from.as_deref().map(|t| time(t, "from")).transpose()?,
        to: query.to.as_deref().map(|t| time(t, "to")).transpose()?,
        before_id: query
            .cursor
            .as_deref()
            .map(|c| {
                c.parse()
                    .map_err(|_| bad_field("cursor", "is not a cursor"))
            })
            .transpose()?,
        limit,
    })
}

/// One delivery as the API shows it.
pub fn render(event: &WebhookEvent) -> Value {
    json!({
        "id": event.id.to_string(),
        "eventId": event_uuid(event).to_string(),
        "type": event.kind.as_str(),
        "subAccountId": event.sub_account_id.as_ref().map(ToString::to_string),
        "state": event.state.as_str(),
        "attempts": event.attempts,
        "createdAt": format_8x8(event.created_at),
        "finishedAt": event.finished_at.map(format_8x8),
        "url": event.url,
        "lastError": event.last_error,
    })
}

pub fn render_attempt(attempt: &WebhookAttempt) -> Value {
    json!({
        "at": format_8x8(attempt.at),
        "url": attempt.url,
        "statusCode": attempt.status_code,
        "latencyMs": attempt.latency_ms,
        "error": attempt.error,
    })
}

/// A page of deliveries, with the cursor of the next one when the page is full.
pub fn render_page(events: &[WebhookEvent], limit: u32) -> Value {
    let next = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.id.to_string()))
        .flatten();
    json!({
        "deliveries": events.iter().map(render).collect::<Vec<_>>(),
        "nextCursor": next,
    })
}

/// A redrive request: `{"id"}` for one event (whatever became of it); `{"from", "to"}`
/// for the dead letters of a time range; otherwise the dead letters of the webhook named
/// by `type` and `subAccountId` (`*` or absent: all of them).
pub fn parse_redrive(body: &Value) -> Result<Redrive> {
    let Value::Object(body) = body else {
        return Err(invalid(
            parley_types::codes::SyncCode::InvalidParameters,
            "Invalid parameter(s): the body must be a JSON object",
        ));
    };
    let body: &Object = body;
    if let Some(id) = text_or_number(body, &["id"], "")? {
        let id = id
            .trim()
            .parse()
            .map_err(|_| bad_field("id", "is not a delivery id"))?;
        return Ok(Redrive::Event(id));
    }
    let from = string(body, &["from"], "")?;
    let to = string(body, &["to"], "")?;
    match (from, to) {
        (Some(from), Some(to)) => {
            let (from, to) = (time(from, "from")?, time(to, "to")?);
            if from >= to {
                return Err(bad_field("to", "must be after 'from'"));
            }
            Ok(Redrive::Range { from, to })
        }
        (Some(_), None) => Err(bad_field("to", "is required with 'from'")),
        (None, Some(_)) => Err(bad_field("from", "is required with 'to'")),
        (None, None) => Ok(Redrive::Dead {
            kind: string(body, &["type"], "")?
                .map(|k| kind(k, "type"))
                .transpose()?,
            sub_account_id: match string(body, &["subAccountId"], "")? {
                Some(raw) => sub_account(raw, "subAccountId")?,
                None => None,
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redrive_bodies_name_one_event_a_range_or_a_webhooks_dead_letters() {
        assert_eq!(
            parse_redrive(&json!({"id": "42"})).unwrap(),
            Redrive::Event(42)
        );
        assert_eq!(parse_redrive(&json!({})).unwrap(), Redrive::ALL_DEAD);
        assert!(matches!(
            parse_redrive(&json!({"type": "cadr", "subAccountId": "*"})).unwrap(),
            Redrive::Dead {
                kind: Some(WebhookKind::Cadr),
                sub_account_id: None
            }
        ));
        assert!(matches!(
            parse_redrive(&json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"})),
            Ok(Redrive::Range { .. })
        ));
        for bad in [
            json!({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
            json!({"from": "2026-01-02T00:00:00Z"}),
            json!({"id": "x"}),
            json!({"type": "SMS"}),
            json!([]),
        ] {
            assert!(parse_redrive(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn listing_limits_are_bounded() {
        let query = |limit| DeliveryQuery {
            limit: Some(limit),
            ..DeliveryQuery::default()
        };
        assert!(parse_query(&query(0)).is_err());
        assert!(parse_query(&query(MAX_PAGE + 1)).is_err());
        assert_eq!(parse_query(&query(MAX_PAGE)).unwrap().limit, MAX_PAGE);
    }
}
