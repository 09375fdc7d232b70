//! The usage counters: what the portal's dashboard and reports read instead of scanning
//! the message log. Per subaccount, channel and UTC day of the event.

use async_trait::async_trait;
use parley_store::{
    ConsumerStart, Counter, CounterKey, Direction, EventKind, MessageState, StoredEvent,
};

use super::{Checkpoint, Consumer};
use crate::Result;

/// The metric names, as stored and as the reports show them.
pub mod metrics {
    /// Outbound messages accepted (API, batch, later campaigns and automation).
    pub const ACCEPTED: &str = "accepted";
    /// Handed to WhatsApp (its first `sent`).
    pub const SENT: &str = "sent";
    /// Reached the user's phone (delivered to the recipient, or read without that).
    pub const DELIVERED: &str = "delivered";
    pub const READ: &str = "read";
    /// Did not reach the user; the dimension is 8x8's error code (empty when none).
    pub const UNDELIVERED: &str = "undelivered";
    /// User messages received.
    pub const RECEIVED: &str = "received";
    /// Messages charged; the dimension is `category:country`.
    pub const CHARGED: &str = "charged";
    /// What they cost, in millionths; the dimension is `category:country`.
    pub const COST_MICROS: &str = "cost_micros";
}

pub struct UsageCounters;

impl UsageCounters {
    pub const NAME: &'static str = "usage-counters";

    /// The counters one event moves.
    pub fn count(event: &StoredEvent) -> Vec<(&'static str, String, i64)> {
        let Some(message) = &event.message else {
            return Vec::new();
        };
        let one = |metric| vec![(metric, String::new(), 1)];
        match event.kind {
            EventKind::MessageAccepted => one(metrics::ACCEPTED),
            EventKind::MessageReceived => one(metrics::RECEIVED),
            EventKind::MessageStatus if message.direction == Direction::Outbound => {
                let mut moved = Vec::new();
                match message.status.state {
                    MessageState::Sent => moved.push((metrics::SENT, String::new(), 1)),
                    MessageState::Read => moved.push((metrics::READ, String::new(), 1)),
                    MessageState::Undelivered => {
                        let code = message.status.error_code.map(|c| c.to_string());
                        moved.push((metrics::UNDELIVERED, code.unwrap_or_default(), 1));
                    }
                    _ => {}
                }
                if message.first_reach {
                    moved.push((metrics::DELIVERED, String::new(), 1));
                }
                moved
            }
            EventKind::MessageCharged => {
                let Some(charge) = &event.charge else {
                    return Vec::new();
                };
                let market = format!(
                    "{}:{}",
                    charge.category,
                    message.country.as_deref().unwrap_or("")
                );
                vec![
                    (metrics::CHARGED, market.clone(), 1),
                    (metrics::COST_MICROS, market, charge.cost_micros),
                ]
            }
            _ => Vec::new(),
        }
    }
}

#[async_trait]
impl Consumer for UsageCounters {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn checkpoint(&self) -> Checkpoint {
        // Counts the whole log still kept, so a new installation's counters start complete.
        Checkpoint::Durable(ConsumerStart::Beginning)
    }

    async fn handle(&self, events: &[StoredEvent]) -> Result<Vec<Counter>> {
        let mut counters = Vec::new();
        for event in events {
            let (Some(sub), Some(channel)) = (&event.sub_account_id, event.channel_id) else {
                continue;
            };
            for (metric, dimension, value) in Self::count(event) {
                counters.push(Counter {
                    key: CounterKey {
                        account_id: event.account_id.clone(),
                        sub_account_id: sub.clone(),
                        channel_id: channel,
                        day: event.at.date_naive(),
                        metric: metric.to_owned(),
                        dimension,
                    },
                    value,
                });
            }
        }
        Ok(counters)
    }
}
