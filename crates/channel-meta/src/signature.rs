//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the app secret, lowercase hex.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "x-hub-signature-256";

fn mac(app_secret: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("hmac takes keys of any length")
}

/// The header value for `body`: `sha256=<hex>`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = mac(app_secret);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Constant-time check of a received header against the raw body.
pub fn verify(app_secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = mac(app_secret);
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Meta escapes every non-ASCII character as `\uXXXX` and signs those bytes; receivers
/// that re-serialise must do the same. Non-ASCII can only occur inside JSON strings, so
/// escaping each such character in serde's output yields equivalent JSON.
pub fn to_ascii_json(value: &serde_json::Value) -> String {
    let raw = value.to_string();
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_and_a_changed_one_does_not() {
        let header = sign("secret", b"{\"a\":1}");
        assert!(verify("secret", b"{\"a\":1}", &header));
        assert!(!verify("secret", b"{\"a\":2}", &header));
        assert!(!verify("other", b"{\"a\":1}", &header));
        assert!(!verify("secret", b"{\"a\":1}", "sha1=abc"));
    }

    #[test]
    fn non_ascii_is_escaped_like_meta_does() {
        let json = to_ascii_json(&serde_json::json!({"text": "olá 😀"}));
        assert_eq!(json, r#"{"text":"ol\u00e1 \ud83d\ude00"}"#);
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["text"], "olá 😀");
    }
}
