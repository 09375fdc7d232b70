//! End-to-end tests: the real binary's wiring on a real listener, real HTTP, the embedded
//! simulator, on SQLite and on a throwaway PostgreSQL cluster.

mod bulk;
mod cluster;
mod connections;
mod console;
mod conversation;
mod errors;
mod events;
mod events_crash;
mod files;
mod helpers;
mod interactive;
mod limits;
mod logs;
mod media_host;
mod media_messages;
mod opt_out;
mod pacing;
mod process;
mod rate_limits;
mod restart;
mod rules;
mod template_fixtures;
mod templates;
mod timers_crash;
mod webhook_crash;
mod webhooks;
