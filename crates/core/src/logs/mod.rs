//! The message log: a filtered, paged query for the console and support, and 8x8's log
//! export jobs (a gzip CSV built in the background, masked unless the account allows
//! otherwise).

mod export;
mod filter;
mod mask;

pub use export::{EXPORT_QUEUE, ExportConfig, ExportRunner, LogExports};
pub use filter::{LogPage, LogParams, LogQueryService};
pub use mask::{mask_content, mask_msisdn};
