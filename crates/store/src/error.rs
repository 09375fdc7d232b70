#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated by something the caller asked for.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or refused the operation; worth retrying.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The transaction lost a race with a concurrent one (a deadlock or serialization
    /// failure) and was rolled back as a whole; running it again is safe.
    #[error("transaction lost a race: {0}")]
    Contention(String),
    /// Stored data did not decode: a bug or a hand-edited database.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
