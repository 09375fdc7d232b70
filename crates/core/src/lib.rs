//! Parley's domain: the one send pipeline (validate → durable accept → dispatch → status),
//! inbound traffic, API keys and the sandbox tenant. Each bounded context is a module
//! exposing a service that the API, and later campaigns, automation and the agent desk,
//! call alike.
//!
//! Depends on the storage and channel *traits* only: never on a backend, a channel
//! implementation, axum or sqlx.

pub mod bootstrap;
pub mod cache;
pub mod console;
pub mod contacts;
pub mod dispatch;
mod error;
pub mod events;
pub mod housekeeping;
pub mod inbound;
mod input;
pub mod interactive;
pub mod keys;
pub mod logs;
pub mod media;
pub mod messages;
pub mod pricing;
pub mod templates;
pub mod webhooks;

pub use error::{Error, Result};
