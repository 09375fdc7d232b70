//! The web console's people: users with roles, passwords, sessions, and what each role
//! may do (docs/console.md). The API layer asks [`ConsoleService::authenticate`] who a
//! cookie belongs to and [`allows`] whether that role may make the call.

mod passwords;
mod permissions;

use chrono::Duration;
use parley_store::{ConsoleRole, ConsoleSession, ConsoleUser, SharedStore, StoreError};
use parley_types::codes::SyncCode;
use parley_types::{AccountId, ConsoleUserId, SharedClock};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use permissions::{Permission, allows, permissions_of};

use crate::{Error, Result};

/// How long a sign-in lasts: a working day, so a forgotten browser does not stay signed in.
pub const SESSION_TTL: Duration = Duration::hours(12);
/// NIST SP 800-63B asks for at least 8; long passphrases are what actually resist guessing.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The email of the admin made on first start.
pub const BOOTSTRAP_ADMIN_EMAIL: &str = "admin@parley.local";

/// A signed-in browser: the cookie value (only ever held by the browser) and what it names.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub session: ConsoleSession,
    pub user: ConsoleUser,
}

/// A new user as an admin describes them.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

/// An admin's change to a user; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<String>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
}

#[derive(Clone)]
pub struct ConsoleService {
    store: SharedStore,
    clock: SharedClock,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid(SyncCode::InvalidParameter, message)
}

fn parse_role(raw: &str) -> Result<ConsoleRole> {
    ConsoleRole::parse(raw).ok_or_else(|| {
        invalid(format!(
            "role must be one of admin, supervisor, agent, analyst (got {raw:?})"
        ))
    })
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(invalid(format!(
            "password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

fn normalise_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let plausible = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(char::is_whitespace);
    if !plausible {
        return Err(invalid(format!("email {raw:?} is not an email address")));
    }
    Ok(email)
}

fn check_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name must have 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

impl ConsoleService {
    pub fn new(store: SharedStore, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    /// Checks the password and opens a session. A wrong email and a wrong password take
    /// the same time and get the same answer, so sign-in does not reveal who has a user.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SignedIn> {
        let user = match normalise_email(email) {
            Ok(email) => self.store.console_user_by_email(&email).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let matches = passwords::verify(password.to_owned(), hash).await;
        let user = match user {
            Some(user) if matches && !user.disabled => user,
            _ => return Err(Error::InvalidCredentials),
        };
        let token = random_token();
        let now = self.clock.now();
        let session = ConsoleSession {
            token_hash: token_hash(&token),
            user_id: user.id,
            csrf_token: random_token(),
            created_at: now,
            expires_at: now + SESSION_TTL,
        };
        self.store.insert_console_session(&session).await?;
        Ok(SignedIn {
            token,
            session,
            user,
        })
    }

    /// The live session a cookie names, with its user as stored now (a changed role
    /// applies from the next request on).
    pub async fn authenticate(&self, token: &str) -> Result<(ConsoleSession, ConsoleUser)> {
        self.store
            .console_session(&token_hash(token), self.clock.now())
            .await?
            .ok_or(Error::Unauthorized)
    }

    pub async fn sign_out(&self, token: &str) -> Result<()> {
        Ok(self
            .store
            .delete_console_session(&token_hash(token))
            .await?)
    }

    pub async fn users(&self, account: &AccountId) -> Result<Vec<ConsoleUser>> {
        Ok(self.store.console_users(account).await?)
    }

    pub async fn create_user(&self, account: &AccountId, new: NewUser) -> Result<ConsoleUser> {
        let email = normalise_email(&new.email)?;
        let name = check_name(&new.name)?;
        let role = parse_role(&new.role)?;
        check_password(&new.password)?;
        let user = ConsoleUser {
            id: ConsoleUserId::new(),
            account_id: account.clone(),
            email,
            name,
            role,
            password_hash: passwords::hash(new.password).await?,
            disabled: false,
            created_at: self.clock.now(),
        };
        match self.store.insert_console_user(&user).await {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict(_)) => Err(invalid(format!(
                "a user with email {} already exists",
                user.email
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The user `id` of `account` (another account's user is "not found" too).
    async fn user_of(&self, account: &AccountId, id: ConsoleUserId) -> Result<ConsoleUser> {
        self.store
            .console_user(id)
            .await?
            .filter(|u| &u.account_id == account)
            .ok_or_else(|| Error::NotFound(format!("no console user {id}")))
    }

    /// Applies an admin's change. Admins cannot demote or disable themselves, so an
    /// account always keeps the admin who is making changes.
    pub async fn update_user(
        &self,
        acting: &ConsoleUser,
        id: ConsoleUserId,
        change: UserChange,
    ) -> Result<ConsoleUser> {
        let mut user = self.user_of(&acting.account_id, id).await?;
        if let Some(name) = &change.name {
            user.name = check_name(name)?;
        }
        if let Some(role) = &change.role {
            user.role = parse_role(role)?;
        }
        if let Some(disabled) = change.disabled {
            user.disabled = disabled;
        }
        if user.id == acting.id && (user.role != acting.role || user.disabled) {
            return Err(invalid(
                "you cannot change your own role or disable yourself",
            ));
        }
        let new_password = change.password.is_some();
        if let Some(password) = change.password {
            check_password(&password)?;
            user.password_hash = passwords::hash(password).await?;
        }
        let end_sessions = new_password || user.disabled;
        if !self.store.update_console_user(&user, end_sessions).await? {
            return Err(Error::NotFound(format!("no console user {id}")));
        }
        Ok(user)
    }

    pub async fn delete_user(&self, acting: &ConsoleUser, id: ConsoleUserId) -> Result<()> {
        if id == acting.id {
            return Err(invalid("you cannot delete yourself"));
        }
        self.user_of(&acting.account_id, id).await?;
        self.store.delete_console_user(id).await?;
        Ok(())
    }

    /// Makes the first admin when `account` has no console user yet; returns the email
    /// and the generated password to print once. Two nodes starting together may both
    /// try: the unique email lets one win and the other make nothing.
    pub async fn ensure_admin(&self, account: &AccountId) -> Result<Option<(String, String)>> {
        if !self.store.console_users(account).await?.is_empty() {
            return Ok(None);
        }
        let password = random_token()[..24].to_owned();
        let created = self
            .create_user(
                account,
                NewUser {
                    email: BOOTSTRAP_ADMIN_EMAIL.into(),
                    name: "Admin".into(),
                    role: ConsoleRole::Admin.as_str().into(),
                    password: password.clone(),
                },
            )
            .await;
        match created {
            Ok(user) => Ok(Some((user.email, password))),
            Err(Error::Invalid { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Forgets sessions that have expired (the housekeeper's job).
    pub async fn remove_expired_sessions(&self) -> Result<u64> {
        Ok(self
            .store
            .delete_expired_console_sessions(self.clock.now())
            .await?)
    }
}
