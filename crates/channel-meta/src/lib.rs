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
