//! The rate card: what a delivered, billable message costs, by pricing category and the
//! recipient's country calling code, with volume tiers for the categories Meta discounts
//! (utility and authentication): the more such messages an account sends to one market in
//! a month, the lower the rate of the next one.

use std::collections::BTreeMap;

use parley_store::{Price, PriceList};

/// One step of the volume ladder: messages `from..=to` of the month (counted from 1)
/// cost the list rate less `discount_percent`.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeTier {
    pub from: u64,
    /// `None`: no upper bound.
    pub to: Option<u64>,
    pub discount_percent: f64,
}

/// Rates in millionths of the currency per message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CategoryRates {
    /// For calling codes not listed.
    pub default_micros: i64,
    /// By calling code (`"1"`, `"44"`, …).
    pub by_calling_code: BTreeMap<String, i64>,
}

impl CategoryRates {
    fn rate(&self, calling_code: &str) -> i64 {
        self.by_calling_code
            .get(calling_code)
            .copied()
            .unwrap_or(self.default_micros)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RateCard {
    /// ISO 4217.
    pub currency: String,
    /// By category (`marketing`, `utility`, `authentication`, …).
    pub rates: BTreeMap<String, CategoryRates>,
    /// The categories whose rate falls with volume.
    pub tiered_categories: Vec<String>,
    pub volume_tiers: Vec<VolumeTier>,
}

/// Turns a rate in currency units (`0.025`) into millionths.
pub fn micros(amount: f64) -> i64 {
    (amount * 1e6).round() as i64
}

impl RateCard {
    pub fn is_tiered(&self, category: &str) -> bool {
        self.tiered_categories.iter().any(|c| c == category)
    }

    /// The tier the `nth` message of the month falls in.
    fn tier_of(&self, nth: u64) -> (u32, f64) {
        self.volume_tiers
            .iter()
            .enumerate()
            .find(|(_, t)| nth >= t.from && t.to.is_none_or(|to| nth <= to))
            .map_or((0, 0.0), |(i, t)| (i as u32, t.discount_percent))
    }
}

impl PriceList for RateCard {
    fn price(&self, category: &str, calling_code: &str, nth: u64) -> Price {
        // A category the card does not list (Meta adds some) costs nothing rather than a
        // guess; the message still counts as charged.
        let list = self
            .rates
            .get(category)
            .map_or(0, |rates| rates.rate(calling_code));
        if !self.is_tiered(category) {
            return Price {
                micros: list,
                tier: 0,
            };
        }
        let (tier, discount) = self.tier_of(nth);
        Price {
            micros: (list as f64 * (1.0 - discount / 100.0)).round() as i64,
            tier,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> RateCard {
        let rates = |default: f64, us: f64| CategoryRates {
            default_micros: micros(default),
            by_calling_code: BTreeMap::from([("1".to_owned(), micros(us))]),
        };
        RateCard {
            currency: "USD".into(),
            rates: BTreeMap::from([
                ("marketing".to_owned(), rates(0.06, 0.025)),
                ("utility".to_owned(), rates(0.008, 0.004)),
            ]),
            tiered_categories: vec!["utility".into()],
            volume_tiers: vec![
                VolumeTier {
                    from: 0,
                    to: Some(2),
                    discount_percent: 0.0,
                },
                VolumeTier {
                    from: 3,
                    to: None,
                    discount_percent: 25.0,
                },
            ],
        }
    }

    #[test]
    fn the_rate_goes_by_category_and_calling_code() {
        let card = card();
        assert_eq!(card.price("marketing", "1", 1).micros, 25_000);
        assert_eq!(card.price("marketing", "65", 1).micros, 60_000);
        assert_eq!(card.price("service", "1", 1).micros, 0);
    }

    #[test]
    fn utility_gets_cheaper_with_volume_and_marketing_does_not() {
        let card = card();
        assert_eq!(
            card.price("utility", "1", 2),
            Price {
                micros: 4_000,
                tier: 0
            }
        );
        assert_eq!(
            card.price("utility", "1", 3),
            Price {
                micros: 3_000,
                tier: 1
            }
        );
        assert_eq!(
            card.price("marketing", "1", 300),
            Price {
                micros: 25_000,
                tier: 0
            }
        );
    }
}
