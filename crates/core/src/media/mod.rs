//! Files Parley hosts: uploads through the files API, media users send (re-hosted from
//! WhatsApp so the customer's URL keeps working after WhatsApp's expires), and the
//! cleaner that removes what expired. The bytes live in `parley-media`'s storage; who may
//! read a file, and until when, lives in the database.

pub(crate) mod hosting;
mod uploads;

pub use hosting::{FileHosting, HostingConfig, Uploaded};
pub use uploads::MediaUploads;
