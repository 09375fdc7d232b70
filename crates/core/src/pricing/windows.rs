//! A user's windows at a moment: whether the 24-hour customer-service window is open and
//! until when, and whether a free entry point is active (or may still be opened by a reply).

use chrono::{DateTime, Utc};
use parley_store::ConversationWindow;
use parley_types::time::format_8x8;
use parley_types::windows::{FREE_ENTRY_REPLY_WITHIN, SERVICE_WINDOW};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowState {
    /// When the open service window closes; `None` when it is closed.
    pub service_until: Option<DateTime<Utc>>,
    /// When the active free entry point ends; `None` when none is active.
    pub free_entry_until: Option<DateTime<Utc>>,
    /// A user from an ad who is not answered yet: a reply before this opens a free entry
    /// point.
    pub free_entry_reply_by: Option<DateTime<Utc>>,
}

pub fn window_state(window: Option<&ConversationWindow>, now: DateTime<Utc>) -> WindowState {
    let still = |at: DateTime<Utc>| (now < at).then_some(at);
    WindowState {
        service_until: window.and_then(|w| still(w.last_inbound_at + SERVICE_WINDOW)),
        free_entry_until: window.and_then(|w| w.free_entry_until.and_then(still)),
        free_entry_reply_by: window
            .and_then(|w| w.referred_at)
            .and_then(|at| still(at + FREE_ENTRY_REPLY_WITHIN)),
    }
}

impl WindowState {
    pub fn service_open(&self) -> bool {
        self.service_until.is_some()
    }

    pub fn free_entry_active(&self) -> bool {
        self.free_entry_until.is_some()
    }

    /// As the window API and message details show it.
    pub fn to_json(&self) -> Value {
        let time = |at: Option<DateTime<Utc>>| at.map(format_8x8);
        let mut free_entry = json!({
            "active": self.free_entry_active(),
            "expiresAt": time(self.free_entry_until),
        });
        if let Some(by) = self.free_entry_reply_by {
            free_entry["replyBy"] = json!(format_8x8(by));
        }
        json!({
            "customerServiceWindow": {
                "open": self.service_open(),
                "expiresAt": time(self.service_until),
            },
            "freeEntryPoint": free_entry,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn windows_close_at_their_ends() {
        let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let window = ConversationWindow {
            last_inbound_at: t0,
            referred_at: Some(t0),
            free_entry_until: None,
        };
        let open = window_state(Some(&window), t0 + Duration::hours(23));
        assert_eq!(open.service_until, Some(t0 + SERVICE_WINDOW));
        assert_eq!(open.free_entry_reply_by, Some(t0 + FREE_ENTRY_REPLY_WITHIN));
        assert!(!open.free_entry_active());
        let closed = window_state(Some(&window), t0 + SERVICE_WINDOW);
        assert_eq!(closed, window_state(None, t0));
    }
}
