//! The send pipeline's front half: validating a send request into a typed message,
//! accepting it durably (grouped commits), and reading messages back.

mod accept;
pub mod batch;
mod command;
pub mod content;
mod idempotency;
pub mod request;
mod service;
mod summary;

pub use service::route;

pub use accept::AcceptQueue;
pub use batch::{BatchItem, BatchOutcome, BatchRequest, Rejection};
pub use command::SendCommand;
pub use content::Content;
pub use request::{Recipient, SendRequest, TypingRequest};
pub use service::{Hold, MessageService};
pub use summary::content_summary;
