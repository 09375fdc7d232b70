//! Passwords as Argon2id hashes (OWASP's parameters: 19 MiB, 2 passes, 1 lane), computed
//! off the async threads: a hash takes tens of milliseconds on purpose.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::{Error, Result};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP's parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checked when the email has no user, so a wrong email costs what a wrong password does.
/// Made once per process (a constant could not be checked for well-formedness at build).
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"parley-decoy-sal").expect("16 bytes is a valid salt");
        argon2()
            .hash_password(b"no user has this password", &salt)
            .expect("hashing a fixed password succeeds")
            .to_string()
    })
}

pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt length");
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| {
                Error::invalid(
                    parley_types::codes::SyncCode::InvalidParameter,
                    format!("password: {e}"),
                )
            })
    })
    .await
    .map_err(|_| Error::ShuttingDown)?
}

/// Whether `password` matches `stored`; with no stored hash, checks against the decoy and
/// answers `false`.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let stored = stored.unwrap_or_else(|| decoy().to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let matches = argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        real && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_matches_only_its_own_hash() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!stored.contains("correct horse"));
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("correct horse batterY".into(), Some(stored.clone())).await);
        let again = hash("correct horse battery".into()).await.unwrap();
        assert_ne!(stored, again, "each hash has its own salt");
        assert!(!verify("no user has this password".into(), None).await);
    }
}
