//! Turns due events into signed webhooks and posts them to Parley, in order. A webhook
//! that is not answered with 200 stays at the head of the queue and is tried again, as
//! Meta retries; so nothing is dropped while Parley is down.

use parley_types::Clock;
use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use parley_channel_meta::signature;
use parley_channel_meta::wire::{
    Change, Contact, Entry, Envelope, ErrorData, MessagesValue, Metadata, Profile, StatusWire,
    WebhookError,
};
use serde_json::json;

use crate::Inner;
use crate::state::{Business, Scheduled};

#[derive(Debug, Default)]
pub struct Delivery {
    queue: VecDeque<String>,
    verified: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PumpReport {
    pub delivered: usize,
    pub pending: usize,
    /// Delivery stopped because the receiver did not answer 200.
    pub blocked: bool,
}

/// Rank of a receipt on the phone, so a late `delivered` never undoes `read`.
fn tick_rank(status: &str) -> u8 {
    match status {
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        _ => 0,
    }
}

fn envelope(business: &Business, value: MessagesValue) -> String {
    let envelope = Envelope {
        object: "whatsapp_business_account".into(),
        entry: vec![Entry {
            id: business.waba_id.clone(),
            time: None,
            changes: vec![Change {
                field: "messages".into(),
                value: serde_json::to_value(value).expect("wire types serialise"),
            }],
        }],
    };
    signature::to_ascii_json(&serde_json::to_value(envelope).expect("wire types serialise"))
}

fn metadata(business: &Business) -> Metadata {
    Metadata {
        display_phone_number: business.display_number.trim_start_matches('+').to_owned(),
        phone_number_id: business.phone_number_id.clone(),
    }
}

/// The webhook body for one event, updating the phone's view on the way.
fn webhook_for(inner: &Inner, event: Scheduled, now: DateTime<Utc>) -> Option<String> {
    let mut state = inner.state();
    match event {
        Scheduled::Status {
            wamid,
            phone_number_id,
            recipient,
            callback_data,
            status,
            failure,
        } => {
            let business = state.business(&phone_number_id)?.clone();
            if let Some((_, bubble)) = state.bubble_mut(&wamid)
                && tick_rank(status) > tick_rank(&bubble.status)
            {
                bubble.status = status.into();
            }
            let failed = failure.is_some();
            let wire = StatusWire {
                id: wamid,
                status: status.into(),
                timestamp: now.timestamp().to_string(),
                recipient_id: recipient,
                biz_opaque_callback_data: callback_data,
                errors: failure
                    .map(|f| WebhookError {
                        code: f.code,
                        title: f.title.into(),
                        message: Some(f.title.into()),
                        error_data: Some(ErrorData { messaging_product: None, details: f.details.into() }),
                    })
                    .into_iter()
                    .collect(),
                // Free-form messages inside the window are free service messages.
                pricing: (!failed).then(|| {
                    json!({"billable": false, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"})
                }),
            };
            Some(envelope(
                &business,
                MessagesValue {
                    messaging_product: "whatsapp".into(),
                    metadata: metadata(&business),
                    statuses: vec![wire],
                    ..MessagesValue::default()
                },
            ))
        }
        Scheduled::Inbound {
            phone_number_id,
            profile_name,
            message,
        } => {
            let business = state.business(&phone_number_id)?.clone();
            Some(envelope(
                &business,
                MessagesValue {
                    messaging_product: "whatsapp".into(),
                    metadata: metadata(&business),
                    contacts: vec![Contact {
                        profile: Profile { name: profile_name },
                        wa_id: message.from.clone(),
                    }],
                    messages: vec![*message],
                    ..MessagesValue::default()
                },
            ))
        }
    }
}

/// Meta's subscription handshake: the callback must echo `hub.challenge`.
async fn verify(inner: &Inner) -> Result<(), String> {
    let challenge = crate::graph::new_wamid();
    let response = inner
        .http
        .get(&inner.config.webhook_url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.challenge", challenge.as_str()),
            ("hub.verify_token", inner.config.verify_token.as_str()),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if status.is_success() && body == challenge {
        Ok(())
    } else {
        Err(format!(
            "callback answered {status} without echoing the challenge"
        ))
    }
}

async fn post(inner: &Inner, body: &str) -> Result<(), String> {
    let response = inner
        .http
        .post(&inner.config.webhook_url)
        .header("content-type", "application/json")
        .header(
            signature::HEADER,
            signature::sign(&inner.config.app_secret, body.as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("callback answered {}", response.status()))
    }
}

pub async fn run_once(inner: &Inner) -> PumpReport {
    let mut delivery = inner.delivering.lock().await;
    let now = inner.clock.now();
    let due = inner.state().take_due(now);
    for event in due {
        if let Some(body) = webhook_for(inner, event, now) {
            delivery.queue.push_back(body);
        }
    }
    let mut report = PumpReport::default();
    if !delivery.queue.is_empty() && !delivery.verified {
        match verify(inner).await {
            Ok(()) => delivery.verified = true,
            Err(e) => {
                tracing::warn!(url = %inner.config.webhook_url, error = %e, "webhook callback not verified");
                report.blocked = true;
            }
        }
    }
    while delivery.verified {
        let Some(body) = delivery.queue.front() else {
            break;
        };
        match post(inner, body).await {
            Ok(()) => {
                delivery.queue.pop_front();
                report.delivered += 1;
            }
            Err(e) => {
                tracing::warn!(error = %e, pending = delivery.queue.len(), "webhook delivery failed; will retry");
                report.blocked = true;
                break;
            }
        }
    }
    report.pending = delivery.queue.len();
    report
}
