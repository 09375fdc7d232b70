//! The `[pricing]` section: the rate card delivered messages are charged by.

use std::collections::BTreeMap;

use parley_core::pricing::{CategoryRates, RateCard, VolumeTier, micros};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct PricingSection {
    pub currency: String,
    /// Categories whose rate falls with the month's volume.
    pub tiered_categories: Vec<String>,
    /// Per category: rates per message by country calling code, and `default`.
    pub rates: BTreeMap<String, BTreeMap<String, f64>>,
    pub volume_tiers: Vec<VolumeTierSection>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VolumeTierSection {
    pub from: u64,
    pub to: Option<u64>,
    pub discount_percent: f64,
}

impl PricingSection {
    /// The rate card, or what is wrong with the section.
    pub fn rate_card(&self) -> Result<RateCard, String> {
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err("pricing.currency must be an ISO 4217 code such as \"USD\"".into());
        }
        let mut rates = BTreeMap::new();
        for (category, by_code) in &self.rates {
            let mut category_rates = CategoryRates::default();
            for (code, rate) in by_code {
                if !(rate.is_finite() && *rate >= 0.0) {
                    return Err(format!(
                        "pricing.rates.{category}.{code} must be a rate of 0 or more"
                    ));
                }
                if code == "default" {
                    category_rates.default_micros = micros(*rate);
                } else if !code.is_empty()
                    && code.len() <= 3
                    && code.chars().all(|c| c.is_ascii_digit())
                {
                    category_rates
                        .by_calling_code
                        .insert(code.clone(), micros(*rate));
                } else {
                    return Err(format!(
                        "pricing.rates.{category}: {code:?} is neither \"default\" nor a country calling code"
                    ));
                }
            }
            if !by_code.contains_key("default") {
                return Err(format!("pricing.rates.{category} needs a default rate"));
            }
            rates.insert(category.to_ascii_lowercase(), category_rates);
        }
        let mut expected_from = None;
        for (i, tier) in self.volume_tiers.iter().enumerate() {
            let contiguous = expected_from.is_none_or(|from| tier.from == from);
            let ordered = tier.to.is_none_or(|to| to >= tier.from);
            let last = i + 1 == self.volume_tiers.len();
            if !contiguous || !ordered || (tier.to.is_none() && !last) {
                return Err("pricing.volume_tiers must follow each other without gaps, each starting after the last one's `to`, and only the last may leave `to` out".into());
            }
            if !(0.0..=100.0).contains(&tier.discount_percent) {
                return Err("pricing.volume_tiers discount_percent must be 0 to 100".into());
            }
            expected_from = tier.to.map(|to| to + 1);
        }
        Ok(RateCard {
            currency: self.currency.clone(),
            rates,
            tiered_categories: self
                .tiered_categories
                .iter()
                .map(|c| c.to_ascii_lowercase())
                .collect(),
            volume_tiers: self
                .volume_tiers
                .iter()
                .map(|t| VolumeTier {
                    from: t.from,
                    to: t.to,
                    discount_percent: t.discount_percent,
                })
                .collect(),
        })
    }
}
