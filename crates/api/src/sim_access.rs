//! Who may use the simulator's control API (`/sim/api/…`): it injects faults, moves the
//! clock and reads every tenant's simulated chats, so in a shared sandbox it is not for
//! anyone who can reach the port. A caller needs a console session (held to its role by
//! the console's guard, which runs first) or the simulator token as a bearer key. Only
//! when Parley listens on loopback alone is it open to callers without either, as the
//! sandbox on a developer's machine has always been (`serve` says so in its log). The
//! Graph API emulator (`/sim/graph/…`) is not guarded here: it checks Meta's access token
//! itself, as Meta does.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parley_types::codes::SyncCode;
use sha2::{Digest, Sha256};

use crate::ApiError;
use crate::console::session::ConsoleCaller;

/// How the control API is reached.
#[derive(Debug, Clone)]
pub struct SimulatorAccess {
    /// The bearer key that opens it (`<data-dir>/simulator-token`).
    pub token: String,
    /// Callers without credentials are let in (Parley listens on loopback only).
    pub open: bool,
}

impl SimulatorAccess {
    fn token_matches(&self, presented: &str) -> bool {
        // Compared as digests, so the time taken says nothing about the token.
        Sha256::digest(presented.as_bytes()) == Sha256::digest(self.token.as_bytes())
    }
}

/// The guard on the simulator's routes, as nested under `/sim`.
pub async fn guard(
    State(access): State<std::sync::Arc<SimulatorAccess>>,
    request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/api/") || access.open {
        return next.run(request).await;
    }
    if request.extensions().get::<ConsoleCaller>().is_some() {
        return next.run(request).await;
    }
    let bearer = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_some_and(|token| access.token_matches(token.trim())) {
        return next.run(request).await;
    }
    ApiError::new(
        SyncCode::Unauthorized,
        "The simulator's control API needs a console session or the simulator token \
         (Authorization: Bearer …, in simulator-token in Parley's data directory)",
    )
    .into_response()
}
