//! The console's session cookie: who a browser is, checked once per request by [`guard`]
//! (which also checks the CSRF header and the route's [`Rule`]), then read by handlers as
//! [`ConsoleCaller`]. Requests with a bearer key or without a cookie pass untouched: the
//! handlers' own authentication applies to them.

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parley_core::console::SESSION_TTL;
use parley_store::{ConsoleSession, ConsoleUser};
use parley_types::codes::SyncCode;

use super::rules::rule_for;
use crate::{ApiError, AppState};

pub const COOKIE_NAME: &str = "parley_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A signed-in console user, put on the request by [`guard`].
#[derive(Debug, Clone)]
pub struct ConsoleCaller {
    pub user: ConsoleUser,
    pub session: ConsoleSession,
    /// The cookie's value, to end this very session on sign-out.
    pub token: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ConsoleCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }
}

/// The session cookie's value, if the browser sent one.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// `Secure` only when the browser came over HTTPS (through a proxy that says so): on
/// plain-HTTP localhost a `Secure` cookie would not be sent back.
fn secure_attribute(request: &HeaderMap) -> &'static str {
    let https = request
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    if https { "; Secure" } else { "" }
}

pub fn set_cookie(request: &HeaderMap, token: &str) -> HeaderValue {
    let value = format!(
        "{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        SESSION_TTL.num_seconds(),
        secure_attribute(request)
    );
    HeaderValue::from_str(&value).expect("a hex token makes a valid header")
}

pub fn clear_cookie(request: &HeaderMap) -> HeaderValue {
    let value = format!(
        "{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        secure_attribute(request)
    );
    HeaderValue::from_str(&value).expect("a fixed cookie is a valid header")
}

fn forbidden(message: impl Into<String>) -> Response {
    ApiError::new(SyncCode::Forbidden, message).into_response()
}

/// Checks a cookie-authenticated request: a live session, the CSRF header on anything
/// that changes state, and the route's rule for the user's role.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if request.headers().contains_key(AUTHORIZATION) {
        return next.run(request).await;
    }
    let Some(token) = session_token(request.headers()).map(str::to_owned) else {
        return next.run(request).await;
    };
    let (session, user) = match state.console.authenticate(&token).await {
        Ok(found) => found,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let method = request.method().clone();
    if !matches!(method, Method::GET | Method::HEAD) {
        let sent = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok());
        if sent != Some(session.csrf_token.as_str()) {
            return forbidden("Missing or wrong X-CSRF-Token header");
        }
    }
    let template = route_template(&request);
    match rule_for(&method, &template) {
        None => return forbidden(format!("Console users may not call {method} {template}")),
        Some(rule) => {
            if let Err(refusal) = rule.check(user.role) {
                return forbidden(refusal);
            }
        }
    }
    request.extensions_mut().insert(ConsoleCaller {
        user,
        session,
        token,
    });
    next.run(request).await
}

/// The route template with its mount point: axum reports nested routes' templates
/// without the prefix they were nested under when the layer sits inside the nest.
fn route_template(request: &Request) -> String {
    let path = request.uri().path();
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(path, MatchedPath::as_str);
    match ["/sim", "/chatapps"]
        .into_iter()
        .find(|mount| path.starts_with(&format!("{mount}/")) && !template.starts_with(mount))
    {
        Some(mount) => format!("{mount}{template}"),
        None => template.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("theme=dark; parley_session=abc123 ; x=1"),
        );
        assert_eq!(session_token(&headers), Some("abc123"));
        headers.insert(COOKIE, HeaderValue::from_static("parley_session_old=zzz"));
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_https() {
        let mut headers = HeaderMap::new();
        let plain = set_cookie(&headers, "t");
        assert_eq!(
            plain.to_str().unwrap(),
            "parley_session=t; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(
            set_cookie(&headers, "t")
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
