//! `GET /api/v1/accounts/{accountId}/usage/messages`: an account's delivered WhatsApp
//! messages in a billing month, charged and free, grouped as asked
//! (`reference/chatapps-api.md` §10).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use parley_store::{SharedStore, UsageRow};
use parley_types::codes::SyncCode;
use parley_types::time::format_8x8;
use parley_types::{AccountId, SharedClock};
use serde_json::{Map, Value, json};

use super::RateCard;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UsageDimension {
    SubAccountId,
    Channel,
    BusinessAccountId,
    PricingCategory,
    Country,
}

impl UsageDimension {
    const ALL: [Self; 5] = [
        Self::SubAccountId,
        Self::Channel,
        Self::BusinessAccountId,
        Self::PricingCategory,
        Self::Country,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::SubAccountId => "subAccountId",
            Self::Channel => "channel",
            Self::BusinessAccountId => "businessAccountId",
            Self::PricingCategory => "pricingCategory",
            Self::Country => "country",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(raw.trim()))
    }

    fn value(self, row: &UsageRow) -> Value {
        match self {
            Self::SubAccountId => json!(row.sub_account_id),
            Self::Channel => json!("whatsapp"),
            Self::BusinessAccountId => json!(row.waba_id),
            Self::PricingCategory => json!(row.category),
            Self::Country => json!(row.country),
        }
    }
}

/// The query string as given.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageQuery {
    pub billing_period: Option<String>,
    pub channel: Option<String>,
    pub group_by: Option<String>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid(SyncCode::InvalidParameter, message)
}

/// The first day of the month `YYYY-MM`.
fn month_start(raw: &str) -> Option<NaiveDate> {
    let (year, month) = raw.trim().split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

fn next_month(start: NaiveDate) -> NaiveDate {
    let (year, month) = match start.month() {
        12 => (start.year() + 1, 1),
        m => (start.year(), m + 1),
    };
    NaiveDate::from_ymd_opt(year, month, 1).expect("the first of a month exists")
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// Volumes of one group; `tiers` counts charged messages per volume tier.
#[derive(Debug, Default)]
struct Group {
    delivered: u64,
    charged: u64,
    cost_micros: i64,
    tiers: BTreeMap<u32, u64>,
}

pub struct UsageReport(pub Value);

#[derive(Clone)]
pub struct UsageService {
    store: SharedStore,
    clock: SharedClock,
    card: Arc<RateCard>,
}

impl UsageService {
    pub fn new(store: SharedStore, clock: SharedClock, card: Arc<RateCard>) -> Self {
        Self { store, clock, card }
    }

    /// The report for `account`. Unlike 8x8, the month still running may be asked for (its
    /// `status` is then `open`); months ahead may not.
    pub async fn report(&self, account: &AccountId, query: &UsageQuery) -> Result<UsageReport> {
        let period = query.billing_period.as_deref().ok_or_else(|| {
            invalid("Invalid parameter(s): 'billingPeriod' is required (YYYY-MM)")
        })?;
        let start = month_start(period).ok_or_else(|| {
            invalid("Invalid parameter(s): 'billingPeriod' must be a month as YYYY-MM")
        })?;
        let now = self.clock.now();
        let (from, to) = (midnight(start), midnight(next_month(start)));
        if from > now {
            return Err(invalid(
                "Invalid parameter(s): 'billingPeriod' has not started yet",
            ));
        }
        if let Some(channel) = &query.channel
            && !channel.eq_ignore_ascii_case("whatsapp")
        {
            return Err(invalid(
                "Invalid parameter(s): 'channel' must be \"whatsapp\", the only channel with usage",
            ));
        }
        let mut group_by = Vec::new();
        for raw in query.group_by.iter().flat_map(|g| g.split(',')) {
            if raw.trim().is_empty() {
                continue;
            }
            let dimension = UsageDimension::parse(raw).ok_or_else(|| {
                invalid(format!(
                    "Invalid parameter(s): 'groupBy' {raw:?} is not one of subAccountId, channel, businessAccountId, pricingCategory, country"
                ))
            })?;
            if !group_by.contains(&dimension) {
                group_by.push(dimension);
            }
        }
        let rows = self.store.usage(account, from, to).await?;
        let data = self.groups(&rows, &group_by);
        let closed = to <= now;
        Ok(UsageReport(json!({
            "data": data,
            "meta": {
                "accountId": account,
                "billingPeriod": {
                    "start": start.format("%Y-%m-%d").to_string(),
                    "end": (next_month(start) - Duration::days(1)).format("%Y-%m-%d").to_string(),
                    "status": if closed { "closed" } else { "open" },
                },
                "dataAsOf": format_8x8(now.min(to)),
                "groupBy": group_by.iter().map(|d| d.name()).collect::<Vec<_>>(),
                "currency": self.card.currency,
            },
        })))
    }

    fn groups(&self, rows: &[UsageRow], group_by: &[UsageDimension]) -> Vec<Value> {
        let mut groups: BTreeMap<Vec<String>, (Map<String, Value>, Group)> = BTreeMap::new();
        for row in rows {
            let mut key = Vec::with_capacity(group_by.len());
            let mut fields = Map::new();
            for dimension in group_by {
                let value = dimension.value(row);
                key.push(value.to_string());
                fields.insert(dimension.name().to_owned(), value);
            }
            let (_, group) = groups
                .entry(key)
                .or_insert_with(|| (fields, Group::default()));
            group.delivered += row.delivered;
            group.charged += row.charged;
            group.cost_micros += row.cost_micros;
            if let Some(tier) = row.tier.filter(|_| row.charged > 0) {
                *group.tiers.entry(tier).or_default() += row.charged;
            }
        }
        // The rate model is per category and market, so it is shown only when the
        // grouping pins both down (as 8x8 does).
        let priced = [
            UsageDimension::Channel,
            UsageDimension::BusinessAccountId,
            UsageDimension::PricingCategory,
            UsageDimension::Country,
        ]
        .iter()
        .all(|d| group_by.contains(d));
        groups
            .into_values()
            .map(|(mut fields, group)| {
                fields.insert(
                    "volume".into(),
                    json!({
                        "delivered": group.delivered,
                        "charged": group.charged,
                        "free": group.delivered - group.charged,
                    }),
                );
                // Parley's addition: what the group cost, in the report's currency.
                fields.insert("cost".into(), json!(group.cost_micros as f64 / 1e6));
                if priced {
                    let category = fields
                        .get("pricingCategory")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    fields.insert("pricing".into(), self.pricing(category, &group));
                }
                Value::Object(fields)
            })
            .collect()
    }

    fn pricing(&self, category: &str, group: &Group) -> Value {
        if !self.card.is_tiered(category) {
            return json!({ "rateModel": "flat" });
        }
        let tiers: Vec<Value> = group
            .tiers
            .iter()
            .filter_map(|(index, quantity)| {
                let tier = self.card.volume_tiers.get(*index as usize)?;
                Some(json!({
                    "from": tier.from,
                    "to": tier.to,
                    "quantity": quantity,
                    "status": "completed",
                }))
            })
            .collect();
        json!({ "rateModel": "tiered", "tiers": tiers })
    }
}
