//! People who sign in to the web console, and their sessions (docs/console.md).

use chrono::{DateTime, Utc};
use parley_types::{AccountId, ConsoleUserId};

/// What a console user may see and do; the permissions behind each role live in
/// `parley_core::console`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsoleRole {
    Admin,
    Supervisor,
    Agent,
    Analyst,
}

impl ConsoleRole {
    pub const ALL: [Self; 4] = [Self::Admin, Self::Supervisor, Self::Agent, Self::Analyst];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::Agent => "agent",
            Self::Analyst => "analyst",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleUser {
    pub id: ConsoleUserId,
    pub account_id: AccountId,
    /// Lower-cased: one person cannot hold two users by changing case.
    pub email: String,
    pub name: String,
    pub role: ConsoleRole,
    /// An Argon2id PHC string; the password itself is never stored.
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// SHA-256 of the cookie's value: a stolen database does not hold usable sessions.
    pub token_hash: String,
    pub user_id: ConsoleUserId,
    /// Sent back as `X-CSRF-Token` on every state-changing call.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
