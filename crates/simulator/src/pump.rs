//! Turns due events into signed webhooks and posts them to Parley: in order within each
//! business account, several business accounts at once, as Meta does. A webhook that is
//! not answered with 200 stays at the head of its account's queue and is tried again, as
//! Meta retries; so nothing is dropped while Parley is down. The queues are part of the
//! state ([`crate::state::State::outbox`]), so a saved state holds every webhook not yet
//! taken, and a webhook leaves its queue only once answered.

use parley_types::Clock;
use std::collections::{BTreeMap, VecDeque};

use futures::StreamExt;

use crate::wire::signature;
use crate::wire::{
    Change, Contact, Entry, Envelope, ErrorData, MessagesValue, Metadata, Profile, StatusWire,
    WebhookError,
};
use chrono::{DateTime, Utc};

use crate::Inner;
use crate::state::{Business, Scheduled};

/// Webhooks waiting to be posted, one queue per business account (WABA id), each posted
/// in order.
pub type Outbox = BTreeMap<String, VecDeque<String>>;

/// Whether the callback passed Meta's handshake (once per process).
#[derive(Debug, Default)]
pub struct Delivery {
    verified: bool,
}

/// Most business accounts whose webhooks are in flight at once. Meta posts a subscriber's
/// webhooks concurrently; a cap keeps a small Parley from being flooded by a busy test.
const ACCOUNTS_IN_FLIGHT: usize = 8;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PumpReport {
    pub delivered: usize,
    pub pending: usize,
    /// Delivery stopped because the receiver did not answer 200.
    pub blocked: bool,
}

fn envelope(business: &Business, value: MessagesValue) -> String {
    change_envelope(
        &business.waba_id,
        None,
        "messages",
        serde_json::to_value(value).expect("wire types serialise"),
    )
}

/// One change of `field` on the business account `waba_id`.
fn change_envelope(
    waba_id: &str,
    time: Option<i64>,
    field: &str,
    value: serde_json::Value,
) -> String {
    let envelope = Envelope {
        object: "whatsapp_business_account".into(),
        entry: vec![Entry {
            id: waba_id.to_owned(),
            time,
            changes: vec![Change {
                field: field.into(),
                value,
            }],
        }],
    };
    signature::ascii_json(&serde_json::to_value(envelope).expect("wire types serialise"))
}

fn metadata(business: &Business) -> Metadata {
    Metadata {
        display_phone_number: business.display_number.trim_start_matches('+').to_owned(),
        phone_number_id: business.phone_number_id.clone(),
    }
}

/// Most receipts one webhook carries by default ([`crate::DeliverySchedule`]). Meta
/// batches receipts that fall due together into one webhook's `statuses` array, and so
/// does the simulator, which also spares Parley a transaction per receipt.
pub const MAX_STATUSES_PER_WEBHOOK: usize = 100;

/// What one due event adds to a webhook.
enum Part {
    Status(Box<StatusWire>),
    Inbound(Box<MessagesValue>),
    /// A template, number or account change: a webhook of its own.
    Management(String),
}

/// One event in wire terms, updating the phone's view on the way. A receipt carries the
/// time it fell `due` (when the message was sent, delivered or read), as Meta's do, not
/// when the webhook went out: Parley tells a late receipt stream from an idle one by it.
fn part_for(
    inner: &Inner,
    (due, event): (DateTime<Utc>, Scheduled),
    now: DateTime<Utc>,
) -> Option<(Business, Part)> {
    let mut state = inner.state();
    match event {
        Scheduled::Status {
            wamid,
            phone_number_id,
            recipient,
            callback_data,
            status,
            failure,
            pricing,
        } => {
            let business = state.business(&phone_number_id)?.clone();
            state.tick(&wamid, &status);
            let failed = failure.is_some();
            let wire = StatusWire {
                id: wamid,
                status,
                timestamp: due.timestamp().to_string(),
                recipient_user_id: crate::users::bsuid(&business.waba_id, &recipient),
                recipient_id: recipient,
                biz_opaque_callback_data: callback_data,
                errors: failure
                    .map(|f| WebhookError {
                        code: f.code,
                        message: Some(f.title.clone()),
                        title: f.title,
                        error_data: Some(ErrorData {
                            messaging_product: None,
                            details: f.details,
                        }),
                    })
                    .into_iter()
                    .collect(),
                pricing: pricing.filter(|_| !failed),
            };
            Some((business, Part::Status(Box::new(wire))))
        }
        Scheduled::Inbound {
            phone_number_id,
            profile_name,
            message,
        } => {
            let business = state.business(&phone_number_id)?.clone();
            let value = MessagesValue {
                messaging_product: "whatsapp".into(),
                metadata: metadata(&business),
                contacts: vec![Contact {
                    profile: Some(Profile { name: profile_name }),
                    user_id: crate::users::bsuid(&business.waba_id, &message.from),
                    wa_id: message.from.clone(),
                }],
                messages: vec![*message],
                ..MessagesValue::default()
            };
            Some((business, Part::Inbound(Box::new(value))))
        }
        Scheduled::TemplateReview { id } => {
            let template = state.template_mut(&id)?;
            let waba_id = template.waba_id.clone();
            let webhooks = template.review();
            state.report(&waba_id, now, webhooks);
            None
        }
        Scheduled::TemplateUnpause { id, pause } => {
            state.end_pause(&id, pause, now);
            None
        }
        Scheduled::QualityCheck { phone_number_id } => {
            let business = state.business(&phone_number_id)?.clone();
            state.rate(&business, now);
            None
        }
        Scheduled::ManagementWebhook {
            waba_id,
            field,
            value,
        } => {
            let business = state
                .businesses
                .iter()
                .find(|b| b.waba_id == waba_id)?
                .clone();
            let body = change_envelope(&waba_id, Some(now.timestamp()), &field, value);
            Some((business, Part::Management(body)))
        }
    }
}

/// A webhook body and the business account whose queue it joins.
type Webhook = (String, String);

/// Webhook bodies for due events, each with its business account: each user message or
/// account change alone, one number's receipts together (up to the batch limit) however
/// they interleave with other numbers'. Within a business account the order holds: a
/// number's receipts go out before any later user message or change of its account.
fn webhooks(parts: Vec<(Business, Part)>, per_webhook: usize) -> Vec<Webhook> {
    let mut bodies = Vec::new();
    // Receipts not yet in a body, per phone number, in the order the numbers came.
    let mut open: Vec<(Business, Vec<StatusWire>)> = Vec::new();
    let flush = |batch: (Business, Vec<StatusWire>), bodies: &mut Vec<Webhook>| {
        let (business, statuses) = batch;
        // Since 2026 a status webhook names its recipients in `contacts` too, with their
        // business-scoped ids: one entry per status, in the same order.
        let contacts = statuses
            .iter()
            .map(|s| Contact {
                profile: None,
                wa_id: s.recipient_id.clone(),
                user_id: s.recipient_user_id.clone(),
            })
            .collect();
        let value = MessagesValue {
            messaging_product: "whatsapp".into(),
            metadata: metadata(&business),
            contacts,
            statuses,
            ..MessagesValue::default()
        };
        bodies.push((business.waba_id.clone(), envelope(&business, value)));
    };
    for (business, part) in parts {
        let body = match part {
            Part::Status(wire) => {
                let wire = *wire;
                let number = &business.phone_number_id;
                match open.iter().position(|(b, _)| &b.phone_number_id == number) {
                    Some(at) if open[at].1.len() < per_webhook.max(1) => {
                        open[at].1.push(wire);
                    }
                    Some(at) => {
                        flush(open.remove(at), &mut bodies);
                        open.push((business, vec![wire]));
                    }
                    None => open.push((business, vec![wire])),
                }
                continue;
            }
            Part::Inbound(value) => envelope(&business, *value),
            Part::Management(body) => body,
        };
        let (same_account, others) = std::mem::take(&mut open)
            .into_iter()
            .partition(|(b, _)| b.waba_id == business.waba_id);
        open = others;
        for batch in same_account {
            flush(batch, &mut bodies);
        }
        bodies.push((business.waba_id.clone(), body));
    }
    for batch in open {
        flush(batch, &mut bodies);
    }
    bodies
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

/// Posts `queue` (a copy of an account's queue) from its head until it is empty or a post
/// fails, taking each answered webhook off the account's queue in the state; yields how
/// many went and whether one failed.
async fn post_in_order(inner: &Inner, account: &str, queue: VecDeque<String>) -> (usize, bool) {
    let mut delivered = 0;
    let pending = queue.len();
    for body in queue {
        if let Err(e) = post(inner, &body).await {
            tracing::warn!(error = %e, pending = pending - delivered, "webhook delivery failed; will retry");
            return (delivered, true);
        }
        delivered += 1;
        let mut state = inner.state();
        if let Some(queue) = state.outbox.get_mut(account) {
            queue.pop_front();
            if queue.is_empty() {
                state.outbox.remove(account);
            }
        }
    }
    (delivered, false)
}

pub async fn run_once(inner: &Inner) -> PumpReport {
    let mut delivery = inner.delivering.lock().await;
    let now = inner.clock.now();
    let mut parts = Vec::new();
    // Handling an event may make others due at once (a review reports its outcome).
    // Looked at before taken: taking changes the state, which then has to be saved.
    for _ in 0..3 {
        if !inner.state().has_due(now) {
            break;
        }
        let due = inner.state().take_due(now);
        parts.extend(
            due.into_iter()
                .filter_map(|event| part_for(inner, event, now)),
        );
    }
    let bodies = webhooks(parts, inner.config.schedule.statuses_per_webhook);
    // Posted from a copy: the state keeps each webhook until it is answered.
    let queues = if bodies.is_empty() {
        inner.state().outbox.clone()
    } else {
        let mut state = inner.state();
        for (account, body) in bodies {
            state.outbox.entry(account).or_default().push_back(body);
        }
        state.outbox.clone()
    };
    let mut report = PumpReport::default();
    if !queues.is_empty() && !delivery.verified {
        match verify(inner).await {
            Ok(()) => delivery.verified = true,
            Err(e) => {
                tracing::warn!(url = %inner.config.webhook_url, error = %e, "webhook callback not verified");
                report.blocked = true;
            }
        }
    }
    if delivery.verified {
        let mut posting = futures::stream::iter(queues)
            .map(|(account, queue)| async move { post_in_order(inner, &account, queue).await })
            .buffer_unordered(ACCOUNTS_IN_FLIGHT);
        while let Some((delivered, failed)) = posting.next().await {
            report.delivered += delivered;
            report.blocked |= failed;
        }
    }
    report.pending = inner.state().outbox.values().map(VecDeque::len).sum();
    report
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn business(pnid: &str) -> Business {
        Business {
            phone_number_id: pnid.into(),
            display_number: "+15550100001".into(),
            waba_id: "waba".into(),
            alias: None,
        }
    }

    fn receipt(pnid: &str, n: usize) -> (Business, Part) {
        let wire = StatusWire {
            id: format!("wamid.{n}"),
            status: "delivered".into(),
            timestamp: "1780000000".into(),
            recipient_id: "15551230001".into(),
            ..StatusWire::default()
        };
        (business(pnid), Part::Status(Box::new(wire)))
    }

    fn user_message(pnid: &str) -> (Business, Part) {
        let value = MessagesValue {
            messaging_product: "whatsapp".into(),
            metadata: metadata(&business(pnid)),
            messages: vec![crate::wire::InboundWire {
                from: "15551230001".into(),
                id: "wamid.in".into(),
                timestamp: "1780000000".into(),
                kind: "text".into(),
                text: Some(crate::wire::Text {
                    body: "hi".into(),
                    preview_url: false,
                }),
                ..Default::default()
            }],
            ..MessagesValue::default()
        };
        (business(pnid), Part::Inbound(Box::new(value)))
    }

    /// How many receipts each webhook body carries (0 for a user message), checking that
    /// each names its recipients in `contacts`, one per status.
    fn receipts_per_webhook(bodies: &[Webhook]) -> Vec<usize> {
        bodies
            .iter()
            .map(|(_, body)| {
                let body: Value = serde_json::from_str(body).unwrap();
                let value = &body["entry"][0]["changes"][0]["value"];
                let statuses = value["statuses"].as_array().map_or(0, Vec::len);
                if statuses > 0 {
                    assert_eq!(value["contacts"].as_array().map(Vec::len), Some(statuses));
                }
                statuses
            })
            .collect()
    }

    #[test]
    fn receipts_due_together_share_a_webhook_and_user_messages_keep_their_place() {
        let mut parts: Vec<_> = (0..3).map(|n| receipt("pn-1", n)).collect();
        parts.push(receipt("pn-2", 3));
        parts.push(user_message("pn-2"));
        parts.extend((4..6).map(|n| receipt("pn-2", n)));
        assert_eq!(
            receipts_per_webhook(&webhooks(parts, MAX_STATUSES_PER_WEBHOOK)),
            [3, 1, 0, 2]
        );
    }

    #[test]
    fn interleaved_numbers_each_get_one_webhook_of_their_receipts() {
        let parts = (0..6)
            .map(|n| receipt(if n % 2 == 0 { "pn-1" } else { "pn-2" }, n))
            .collect();
        assert_eq!(
            receipts_per_webhook(&webhooks(parts, MAX_STATUSES_PER_WEBHOOK)),
            [3, 3]
        );
    }

    #[test]
    fn a_webhook_carries_at_most_the_batch_limit() {
        let parts = (0..MAX_STATUSES_PER_WEBHOOK + 1)
            .map(|n| receipt("pn-1", n))
            .collect();
        assert_eq!(
            receipts_per_webhook(&webhooks(parts, MAX_STATUSES_PER_WEBHOOK)),
            [MAX_STATUSES_PER_WEBHOOK, 1]
        );
    }
}
