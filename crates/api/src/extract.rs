//! Extractors that turn every malformed request into a clear 8x8 error (never axum's
//! plain-text rejections): JSON bodies, and path identifiers.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use parley_types::codes::SyncCode;
use parley_types::{SubAccountId, Umid};
use serde::Deserialize;
use serde_json::Value;

use crate::{ApiError, MAX_BATCH_BODY, MAX_JSON_BODY};

/// A JSON body, parsed leniently into a `Value` for the core to validate field by field.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                SyncCode::InvalidParameter,
                "Invalid parameter(s): the request body must be JSON sent with 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        SyncCode::PayloadTooLarge,
                        format!(
                            "Request size must not exceed {} KB ({} KB for a batch)",
                            MAX_JSON_BODY / 1024,
                            MAX_BATCH_BODY / 1024
                        ),
                    )
                } else {
                    ApiError::new(
                        SyncCode::InvalidParameter,
                        format!("Invalid parameter(s): {e}"),
                    )
                }
            })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::new(
                SyncCode::InvalidParameter,
                format!("Invalid parameter(s): the request body is not valid JSON ({e})"),
            )
        })
    }
}

#[derive(Deserialize)]
struct SubAccountPath {
    #[serde(rename = "subAccountId")]
    sub_account_id: String,
    umid: Option<String>,
    msisdn: Option<String>,
    #[serde(rename = "batchId")]
    batch_id: Option<String>,
    #[serde(rename = "jobId")]
    job_id: Option<String>,
    token: Option<String>,
}

/// `{subAccountId}` (and `{umid}`, a user's `{msisdn}` or `{batchId}` where the route has
/// one) from the path.
pub struct MessagePath {
    pub sub_account_id: SubAccountId,
    pub umid: Option<Umid>,
    pub msisdn: Option<String>,
    pub batch_id: Option<uuid::Uuid>,
    /// A log export's `{jobId}`, as given (an unknown one is a 404, not a 400).
    pub job_id: Option<String>,
    /// A download link's `{token}`.
    pub token: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for MessagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<SubAccountPath>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::new(
                    SyncCode::InvalidParameter,
                    format!("Invalid parameter(s): {e}"),
                )
            })?;
        // A malformed id cannot be one of the caller's: the same answer as a foreign one.
        let sub_account_id = SubAccountId::parse(&raw.sub_account_id)
            .map_err(|_| ApiError::from(parley_core::Error::IllegalSubAccount))?;
        let umid = raw
            .umid
            .map(|u| {
                u.parse::<Umid>()
                    .map_err(|_| ApiError::new(SyncCode::InvalidParameter, "Invalid umid."))
            })
            .transpose()?;
        let batch_id = raw
            .batch_id
            .map(|b| {
                b.trim()
                    .parse::<uuid::Uuid>()
                    .map_err(|_| ApiError::new(SyncCode::InvalidParameter, "Invalid batchId."))
            })
            .transpose()?;
        Ok(Self {
            sub_account_id,
            umid,
            msisdn: raw.msisdn,
            batch_id,
            job_id: raw.job_id,
            token: raw.token,
        })
    }
}
