//! Business-scoped user ids (BSUIDs, `reference/usernames-bsuid.md`): since 2026 WhatsApp
//! names each user to each business portfolio by an id of its own, `CC.<digits>` (the
//! user's country, a period, up to 128 alphanumerics), in every webhook beside the phone
//! number, and takes it instead of the number as a send's `recipient`. The simulator
//! derives it from the business account and the number, so the same user has the same id
//! for one business across restarts and a different one for another business.

use sha2::{Digest, Sha256};

use crate::NOT_ON_WHATSAPP_PREFIX;

/// The id WhatsApp gives `wa_id` (the user's number, digits only) towards the business
/// account `waba_id`; none for a number that is not on WhatsApp.
pub fn bsuid(waba_id: &str, wa_id: &str) -> Option<String> {
    if wa_id.starts_with(NOT_ON_WHATSAPP_PREFIX) {
        return None;
    }
    let country = parley_types::Msisdn::parse(&format!("+{wa_id}"), None)
        .ok()
        .and_then(|m| m.country())
        .unwrap_or_else(|| "ZZ".to_owned());
    let digest = Sha256::digest(format!("{waba_id}:{wa_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Twenty digits, like the ids Meta shows (`US.13491208655302741918`).
    let number = u128::from_be_bytes(bytes) % 10u128.pow(20);
    Some(format!("{}.{number:020}", country.to_ascii_uppercase()))
}

/// Whether `id` has a BSUID's shape (a send's `recipient`).
pub fn looks_like_bsuid(id: &str) -> bool {
    let Some((country, rest)) = id.split_once('.') else {
        return false;
    };
    let rest = rest.strip_prefix("ENT.").unwrap_or(rest);
    country.len() == 2
        && country.chars().all(|c| c.is_ascii_uppercase())
        && !rest.is_empty()
        && rest.len() <= 128
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_user_has_one_id_per_business() {
        let id = bsuid("waba-1", "15551234567").unwrap();
        assert!(id.starts_with("US.") && id.len() == 23, "{id}");
        assert!(looks_like_bsuid(&id));
        assert_eq!(bsuid("waba-1", "15551234567").as_deref(), Some(id.as_str()));
        assert_ne!(bsuid("waba-2", "15551234567").as_deref(), Some(id.as_str()));
        assert!(bsuid("waba-1", "6591234567").unwrap().starts_with("SG."));
        assert_eq!(bsuid("waba-1", "99955501234"), None, "not on WhatsApp");
        assert!(!looks_like_bsuid("15551234567"));
        assert!(looks_like_bsuid("US.ENT.11815799212886844830"));
    }
}
