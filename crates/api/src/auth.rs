//! `Authorization: Bearer <key>` on every 8x8 route, and the subaccount's rate limit for
//! the authenticated caller.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use parley_core::keys::Principal;

use crate::{ApiError, AppState};

/// The caller, authenticated by its API key.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(ApiError::unauthorized)?;
        let principal = state.keys.authenticate(token).await?;
        state
            .limits
            .sub_account(&principal.account_id, parts.uri.path())?;
        Ok(Self(principal))
    }
}
