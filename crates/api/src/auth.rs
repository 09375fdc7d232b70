//! `Authorization: Bearer <key>` on every 8x8 route (or a console session, checked by
//! [`crate::console::session::guard`] before the handler runs), and the subaccount's rate
//! limit for the authenticated caller.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use parley_core::keys::Principal;

use crate::console::session::ConsoleCaller;
use crate::{ApiError, AppState};

/// The caller, authenticated by its API key or its console session.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = match parts.extensions.get::<ConsoleCaller>() {
            Some(console) => Principal {
                account_id: console.user.account_id.clone(),
                key_id: None,
            },
            None => {
                let token = parts
                    .headers
                    .get(AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| {
                        let (scheme, token) = v.trim().split_once(' ')?;
                        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
                    })
                    .ok_or_else(ApiError::unauthorized)?;
                state.keys.authenticate(token).await?
            }
        };
        state
            .limits
            .sub_account(&principal.account_id, parts.uri.path())?;
        Ok(Self(principal))
    }
}
