//! The account's do-not-contact list: users who wrote a stop keyword or were put on it
//! through the Contacts API's blacklist. Marketing messages to them are not sent (the
//! dispatcher checks the list when each one is about to go); a start keyword takes them
//! off it.

use parley_store::{OptChange, OptOutSource, SharedStore};
use parley_types::codes::SyncCode;
use parley_types::{AccountId, Msisdn, SharedClock};

use crate::{Error, Result};

/// The words that put a user on the list or take them off it: the whole message, any
/// case, surrounding spaces and punctuation ignored (`Stop.` counts, `stop it` does not,
/// so ordinary sentences never opt anyone out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOutKeywords {
    stop: Vec<String>,
    start: Vec<String>,
}

impl Default for OptOutKeywords {
    fn default() -> Self {
        Self::new(&["STOP", "STOPALL", "UNSUBSCRIBE"], &["START", "UNSTOP"])
    }
}

fn normalise(word: &str) -> String {
    word.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
        .to_uppercase()
}

fn words(list: &[impl AsRef<str>]) -> Vec<String> {
    list.iter()
        .map(|w| normalise(w.as_ref()))
        .filter(|w| !w.is_empty())
        .collect()
}

impl OptOutKeywords {
    pub fn new(stop: &[impl AsRef<str>], start: &[impl AsRef<str>]) -> Self {
        Self {
            stop: words(stop),
            start: words(start),
        }
    }

    /// What a user's text does to the list, if it is a keyword.
    pub fn change(&self, text: &str) -> Option<OptChange> {
        let word = normalise(text);
        if self.stop.contains(&word) {
            Some(OptChange::Out)
        } else if self.start.contains(&word) {
            Some(OptChange::In)
        } else {
            None
        }
    }
}

#[derive(Clone)]
pub struct ContactService {
    store: SharedStore,
    clock: SharedClock,
}

impl ContactService {
    pub fn new(store: SharedStore, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    /// Puts a number on the account's list (`blacklist-msisdn`). 8x8's example writes it
    /// without `+`; both forms are read.
    pub async fn blacklist(&self, account: &AccountId, raw: &str) -> Result<Msisdn> {
        let msisdn = number(raw)?;
        self.store
            .opt_out(
                account,
                msisdn.as_str(),
                OptOutSource::Api,
                self.clock.now(),
            )
            .await?;
        Ok(msisdn)
    }

    /// Takes a number off the list; `false` if it was not on it.
    pub async fn unblacklist(&self, account: &AccountId, raw: &str) -> Result<bool> {
        let msisdn = number(raw)?;
        Ok(self.store.opt_in(account, msisdn.as_str()).await?)
    }
}

fn number(raw: &str) -> Result<Msisdn> {
    let raw = raw.trim();
    let e164 = if raw.starts_with('+') {
        raw.to_owned()
    } else {
        format!("+{raw}")
    };
    Msisdn::parse(&e164, None).map_err(|_| {
        Error::invalid(
            SyncCode::InvalidMsisdn,
            "Invalid MSISDN format (not E.164 international number): 'msisdn'",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_keyword_in_any_case_changes_the_list() {
        let keywords = OptOutKeywords::default();
        for text in ["STOP", "stop", " Stop. ", "unsubscribe!", "StopAll"] {
            assert_eq!(keywords.change(text), Some(OptChange::Out), "{text:?}");
        }
        for text in ["START", "start", "Unstop"] {
            assert_eq!(keywords.change(text), Some(OptChange::In), "{text:?}");
        }
        for text in ["stop it", "please stop sending", "", "startup"] {
            assert_eq!(keywords.change(text), None, "{text:?}");
        }
        let custom = OptOutKeywords::new(&["arrêt"], &["reprendre"]);
        assert_eq!(custom.change("ARRÊT"), Some(OptChange::Out));
        assert_eq!(custom.change("STOP"), None);
    }
}
