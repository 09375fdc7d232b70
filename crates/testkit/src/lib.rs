//! Helpers for Parley's tests: throwaway infrastructure a test starts, uses and removes
//! again, so every test runs against its own fresh state. Today that is [`pg::PgCluster`],
//! a private PostgreSQL server built from the machine's binaries.
//!
//! Only ever a dev-dependency: no production crate may depend on it, and it depends on no
//! storage backend (a backend's tests bring their own store and use the cluster's URL).

pub mod pg;
