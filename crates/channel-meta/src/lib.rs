//! The WhatsApp adapter for Meta's Graph API (Cloud API): builds Graph requests for
//! outbound messages, classifies Graph errors, and turns signed Graph webhooks into
//! normalised [`parley_channels::ChannelEvent`]s, and manages message templates on the
//! business account. The simulator, which emulates the other side of this wire, has its
//! own wire types and signing code, so a mistake here is caught there, not mirrored.
//!
//! Depends on `channels` and `types` only; knows nothing about storage or Parley's API.

mod adapter;
pub mod interactive;
pub mod signature;
pub mod templates;
pub mod webhook;
pub mod wire;

pub use adapter::{MetaAdapter, MetaConfig, RETRYABLE_META_CODES};

/// Meta's webhooks into Parley: `hub.challenge` with the verify token, and
/// `X-Hub-Signature-256` with the app secret over the raw body.
pub struct MetaIntake {
    pub app_secret: String,
    pub verify_token: String,
}

impl parley_channels::WebhookIntake for MetaIntake {
    fn signature_header(&self) -> &'static str {
        signature::HEADER
    }

    fn authentic(&self, body: &[u8], signature: Option<&str>) -> bool {
        signature.is_some_and(|sig| signature::verify(&self.app_secret, body, sig))
    }

    fn handshake(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<String>,
    ) -> Option<String> {
        (mode == Some("subscribe") && token == Some(self.verify_token.as_str()))
            .then_some(challenge)
            .flatten()
    }

    fn read(&self, body: &[u8]) -> Result<Vec<parley_channels::ChannelEvent>, String> {
        webhook::parse(body).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use parley_channels::WebhookIntake;

    use super::*;

    #[test]
    fn meta_s_handshake_and_signature_are_checked_before_anything_is_read() {
        let intake = MetaIntake {
            app_secret: "secret".into(),
            verify_token: "verify".into(),
        };
        let challenge = || Some("1158201444".to_owned());
        assert_eq!(
            intake.handshake(Some("subscribe"), Some("verify"), challenge()),
            challenge()
        );
        assert_eq!(
            intake.handshake(Some("subscribe"), Some("guess"), challenge()),
            None
        );
        assert_eq!(intake.handshake(None, Some("verify"), challenge()), None);
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let signed = signature::sign("secret", body);
        assert!(intake.authentic(body, Some(&signed)));
        assert!(!intake.authentic(b"{}", Some(&signed)), "another body");
        assert!(!intake.authentic(body, None));
        assert_eq!(intake.read(body).unwrap().len(), 0);
        assert!(intake.read(b"not json").is_err());
    }
}
