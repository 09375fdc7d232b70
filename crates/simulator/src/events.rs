//! What changed, as it happens: `GET /api/events` streams server-sent events for the
//! console, which refetches what it shows. `event: phone` with `{"msisdn": "+…"}` when a
//! phone's chat changed (a business message arrived, a tick moved, the user sent, tapped,
//! read, blocked, unblocked or reported); `event: templates` with `{}` when a template was
//! created, reviewed, changed or deleted.
//!
//! Changes are noted in the state as they are made ([`Changes`]) and announced once per
//! phone when the state's lock is released (`Inner::state`), so no change path has to
//! remember to announce, and a burst of receipts for one chat is one event.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use crate::Simulator;

/// How often an idle stream gets a comment, so proxies and browsers keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Events a slow reader may fall behind by before it skips ahead; skipping loses
/// nothing the console needs, since every event means "refetch".
pub(crate) const BACKLOG: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SimEvent {
    /// A phone's chat changed; its number with the `+`.
    Phone(String),
    Templates,
}

impl SimEvent {
    fn to_sse(&self) -> Event {
        match self {
            SimEvent::Phone(msisdn) => Event::default()
                .event("phone")
                .data(json!({ "msisdn": msisdn }).to_string()),
            SimEvent::Templates => Event::default().event("templates").data("{}"),
        }
    }
}

/// What changed under the state's lock since it was taken.
#[derive(Debug, Default)]
pub struct Changes {
    /// wa_ids of the chats that changed.
    phones: BTreeSet<String>,
    templates: bool,
}

impl Changes {
    pub fn phone(&mut self, wa_id: &str) {
        if !self.phones.contains(wa_id) {
            self.phones.insert(wa_id.to_owned());
        }
    }

    pub fn templates(&mut self) {
        self.templates = true;
    }

    pub(crate) fn take(&mut self) -> Vec<SimEvent> {
        let phones = std::mem::take(&mut self.phones);
        let mut events: Vec<SimEvent> = phones
            .into_iter()
            .map(|wa_id| SimEvent::Phone(format!("+{wa_id}")))
            .collect();
        if std::mem::take(&mut self.templates) {
            events.push(SimEvent::Templates);
        }
        events
    }
}

/// Where changes are announced, and the switch that ends every stream.
pub(crate) struct Announcer {
    events: broadcast::Sender<SimEvent>,
    closed: watch::Sender<bool>,
}

impl Announcer {
    pub(crate) fn new() -> Self {
        Self {
            events: broadcast::Sender::new(BACKLOG),
            closed: watch::Sender::new(false),
        }
    }

    pub(crate) fn announce(&self, events: Vec<SimEvent>) {
        for event in events {
            // Nobody listening is fine: nothing is kept for later readers.
            let _ = self.events.send(event);
        }
    }

    pub(crate) fn close(&self) {
        self.closed.send_replace(true);
    }
}

pub fn router() -> Router<Simulator> {
    Router::new().route("/api/events", get(events))
}

/// The stream of one reader: events as they come, skipping ahead when it fell behind,
/// until the simulator closes its streams.
fn stream(announcer: &Announcer) -> impl Stream<Item = Result<Event, Infallible>> + use<> {
    let start = (announcer.events.subscribe(), announcer.closed.subscribe());
    futures::stream::unfold(start, |(mut events, mut closed)| async move {
        loop {
            if *closed.borrow_and_update() {
                return None;
            }
            tokio::select! {
                received = events.recv() => match received {
                    Ok(event) => return Some((Ok(event.to_sse()), (events, closed))),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
                changed = closed.changed() => if changed.is_err() {
                    return None;
                },
            }
        }
    })
}

/// Server-sent events: `phone` (`{"msisdn": "+…"}`) and `templates` (`{}`), with a
/// keep-alive comment every 15 s. The stream ends only when the simulator closes it.
#[utoipa::path(get, path = "/sim/api/events", tag = "Simulator: control",
    responses((status = 200, description = "`text/event-stream`: `event: phone` with `data: {\"msisdn\": \"+…\"}` when a phone's chat changed; `event: templates` with `data: {}` when a template's review state changed", content_type = "text/event-stream")))]
pub(crate) async fn events(
    State(sim): State<Simulator>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(stream(&sim.inner.announcer)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_changes_is_one_event_per_chat() {
        let mut changes = Changes::default();
        changes.phone("15550000002");
        changes.phone("15550000001");
        changes.phone("15550000002");
        changes.templates();
        assert_eq!(
            changes.take(),
            [
                SimEvent::Phone("+15550000001".into()),
                SimEvent::Phone("+15550000002".into()),
                SimEvent::Templates
            ]
        );
        assert_eq!(changes.take(), [], "taken once");
    }
}
