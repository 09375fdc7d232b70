//! Durable jobs and timers, for everything that must happen later and survive restarts:
//! automation's Wait and WaitForReply timeouts, Converse's auto-close, campaign schedules.
//!
//! - A **timer** fires exactly once at its time, across nodes and crashes: firing marks it
//!   fired and appends a `timer.fired` event in one transaction, and the subsystem that set
//!   it reacts as a consumer of the event log (`parley_core::events`).
//! - A **work job** is claimed by one node under a lease and run by its queue's
//!   [`JobHandler`]; a failure is tried again on the job's own [`RetrySchedule`] (data, not
//!   code), then dead-lettered until redriven. A node that dies mid-job leaves it to be
//!   taken over when the lease runs out, so a handler must tolerate running twice.
//!
//! Scheduling is idempotent on `(queue, key)`. Depends on `store` and `types` only; the
//! SQL is the store's (`JobStore`).

mod schedule;
mod worker;

pub use schedule::{Jobs, RetrySchedule, Timer, Work};
pub use worker::{JobHandler, JobWorker, WorkerConfig, WorkerReport};
