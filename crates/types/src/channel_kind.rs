//! The kinds of channel a subaccount can send on. Each kind has its own addressing and its
//! own adapter, found by kind (`parley_channels::Adapters`).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    #[serde(rename = "whatsapp")]
    WhatsApp,
    Sms,
    Voice,
}

impl ChannelKind {
    pub const ALL: [Self; 3] = [Self::WhatsApp, Self::Sms, Self::Voice];

    /// As stored and as 8x8 names channels (`whatsapp`, `sms`, `voice`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhatsApp => "whatsapp",
            Self::Sms => "sms",
            Self::Voice => "voice",
        }
    }

    /// Any casing (8x8 writes `WhatsApp`, `SMS`).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(raw.trim()))
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_in_any_casing_and_store_lowercase() {
        assert_eq!(ChannelKind::parse("WhatsApp"), Some(ChannelKind::WhatsApp));
        assert_eq!(ChannelKind::parse("SMS"), Some(ChannelKind::Sms));
        assert_eq!(ChannelKind::parse("fax"), None);
        for kind in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(kind.as_str()), Some(kind));
        }
    }
}
