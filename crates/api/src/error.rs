//! The 8x8 error envelope: `{"code","message","errorId","timestamp"}` with the documented
//! HTTP status for each code. Internal failures are logged with their cause and answered
//! with code 2000 without it.

use std::any::Any;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use parley_core::Error;
use parley_types::codes::SyncCode;
use parley_types::time::format_8x8;
use serde_json::json;
use uuid::Uuid;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
    /// Seconds for `Retry-After` (rate limits).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: SyncCode, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.code(),
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            SyncCode::Unauthorized,
            "Request was not authenticated properly",
        )
    }

    fn internal() -> Self {
        Self::new(SyncCode::Internal, "Internal error, please try again later")
    }

    /// A failure of Parley's own (not the caller's): logged with its cause, answered 2000.
    pub fn internal_failure(what: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{what}");
        Self::internal()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid { code, message } => Self::new(code, message),
            Error::Unauthorized => Self::unauthorized(),
            Error::InvalidCredentials => {
                Self::new(SyncCode::Unauthorized, "Invalid email or password")
            }
            Error::Forbidden(message) => Self::new(SyncCode::Forbidden, message),
            Error::IllegalSubAccount => Self::new(
                SyncCode::IllegalSubAccount,
                "Illegal SubAccountId: provided subAccountId doesn't belong to your account",
            ),
            Error::NotFound(message) => Self::new(SyncCode::NotFound, message),
            Error::NotImplemented(message) => Self::new(SyncCode::NotImplemented, message),
            Error::Provider(p) => Self::new(
                SyncCode::InvalidParameter,
                format!("WhatsApp refused the request: (#{}) {}", p.code, p.title),
            ),
            Error::RateLimited {
                message,
                retry_after,
            } => Self {
                retry_after: Some(retry_after),
                ..Self::new(SyncCode::RateLimited, message)
            },
            Error::ShuttingDown => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                ..Self::internal()
            },
            Error::Store(store) => {
                tracing::error!(error = %store, "storage failure");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error_id = Uuid::new_v4();
        if self.status.is_server_error() {
            tracing::error!(%error_id, code = self.code, message = %self.message, "request failed");
        }
        let body = json!({
            "code": self.code,
            "message": self.message,
            "errorId": error_id,
            "timestamp": format_8x8(Utc::now()),
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

/// Unknown paths under the 8x8 surfaces.
pub async fn not_found() -> ApiError {
    ApiError::new(
        SyncCode::NotFound,
        "Object wasn't found or is already expired",
    )
}

/// A handler panicked: answer like any internal error (the panic itself is logged).
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = %detail, "handler panicked");
    ApiError::internal().into_response()
}
