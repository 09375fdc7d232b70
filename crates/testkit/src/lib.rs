//! Helpers for Parley's tests: throwaway infrastructure a test starts, uses and removes
//! again, so every test runs against its own fresh state: [`pg::PgCluster`],
//! a private PostgreSQL server built from the machine's binaries, and [`s3::S3Server`], an
//! S3-compatible server.
//!
//! Only ever a dev-dependency: no production crate may depend on it, and it depends on no
//! storage backend (a backend's tests bring their own store and use the cluster's URL).

pub mod pg;
pub mod s3;
