//! The simulator as a business and its users meet it over HTTP, with the clock moved by the
//! tests and webhooks caught by a receiver.

mod console;
mod graph_fixtures;
mod helpers;
mod limits;
mod media;
mod quality;
