//! What a provider says with a template's status change besides the status itself.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Meta's `reason`, `other_info` and `disable_info` of a template status webhook, which
/// 8x8 passes on as `meta.reason`, `meta.otherInfo` and `meta.disableInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNote {
    /// Why it was rejected (`ABUSIVE_CONTENT`, `INVALID_FORMAT`, …), `NONE` otherwise.
    pub reason: Option<String>,
    /// A pause, unpause or lock (`FIRST_PAUSE`, `UNPAUSE`, …) and Meta's explanation.
    pub other_info: Option<OtherInfo>,
    /// When a flagged template is to be disabled.
    pub disable_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherInfo {
    pub title: String,
    pub description: Option<String>,
}

impl StatusNote {
    pub fn with_reason(reason: impl Into<String>) -> Self {
        Self {
            reason: Some(reason.into()),
            ..Self::default()
        }
    }

    /// The one word a template list shows for it: the pause title, else the reason.
    pub fn headline(&self) -> Option<&str> {
        self.other_info
            .as_ref()
            .map(|info| info.title.as_str())
            .or(self.reason.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_title_is_the_headline_over_meta_s_none_reason() {
        let paused = StatusNote {
            reason: Some("NONE".into()),
            other_info: Some(OtherInfo {
                title: "FIRST_PAUSE".into(),
                description: None,
            }),
            disable_date: None,
        };
        assert_eq!(paused.headline(), Some("FIRST_PAUSE"));
        assert_eq!(StatusNote::with_reason("SCAM").headline(), Some("SCAM"));
        assert_eq!(StatusNote::default().headline(), None);
    }
}
