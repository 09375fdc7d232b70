use parley_channels::ProviderError;
use parley_store::StoreError;
use parley_types::codes::SyncCode;

/// Everything a domain operation can answer besides success. Each kind maps to exactly one
/// 8x8 error code at the API edge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request broke a documented rule; `message` names the field.
    #[error("{message}")]
    Invalid { code: SyncCode, message: String },
    /// The key is missing, unknown or revoked.
    #[error("request was not authenticated properly")]
    Unauthorized,
    /// A console sign-in with a wrong email or password (the same answer for both).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The console user's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The subaccount does not exist or belongs to another account: the same answer either way.
    #[error("provided subAccountId doesn't belong to your account")]
    IllegalSubAccount,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotImplemented(String),
    /// WhatsApp refused a synchronous request (mark as read, typing indicator).
    #[error("whatsapp refused the request: {}", .0.title)]
    Provider(ProviderError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Too many requests of this kind for now; try again after `retry_after` seconds.
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// The service is shutting down and no longer accepts work.
    #[error("parley is shutting down")]
    ShuttingDown,
}

impl Error {
    pub fn invalid(code: SyncCode, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
