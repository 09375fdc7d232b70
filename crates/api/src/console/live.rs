//! `GET /console/api/events`: the console's live view of the signed-in user's account, as
//! server-sent events fed by the `LiveUpdates` event consumer. Each event is named by its
//! kind (`message.status`, `message.received`, …) with the notice as data and the log's
//! `seq` as id; `event: resync` says some were missed (refetch everything shown).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use parley_core::events::LiveEvent;
use parley_types::AccountId;
use tokio::sync::broadcast::error::RecvError;

use super::session::ConsoleCaller;
use crate::AppState;

const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn to_sse(event: &LiveEvent) -> Event {
    Event::default()
        .event(event.kind)
        .id(event.seq.to_string())
        .json_data(event)
        .unwrap_or_else(|_| Event::default().event("resync").data("{}"))
}

fn stream(
    state: &AppState,
    account: AccountId,
) -> impl Stream<Item = Result<Event, Infallible>> + use<> {
    let start = (state.live.subscribe(), account);
    futures::stream::unfold(start, |((mut events, mut closed), account)| async move {
        loop {
            if *closed.borrow_and_update() {
                return None;
            }
            let event = tokio::select! {
                received = events.recv() => match received {
                    Ok(event) if event.account_id == account => to_sse(&event),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => Event::default().event("resync").data("{}"),
                    Err(RecvError::Closed) => return None,
                },
                changed = closed.changed() => if changed.is_err() {
                    return None;
                } else {
                    continue;
                },
            };
            return Some((Ok(event), ((events, closed), account)));
        }
    })
}

/// Server-sent events about the caller's account, with a keep-alive comment every 15 s.
pub(crate) async fn events(
    State(state): State<AppState>,
    caller: ConsoleCaller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(stream(&state, caller.user.account_id))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
