//! Go-live checklists verified against the live cluster.
//!
//! - [`model`]: templates, reviews, items, waivers, sign-off, runs, connections (shared with the UI)
//! - [`template`]: the default checklist and the rules a template follows
//! - `store`: templates, reviews, attestations, waivers, sign-off, evidence files, the board
//! - `connections`: cluster connections with sealed credentials, connection tests
//! - `runs`: verification runs (queued, uploaded, from CI), drift, scheduling
//! - `notify`: team webhooks and their delivery

pub mod model;
pub mod template;

#[cfg(feature = "server")]
pub mod connections;
#[cfg(feature = "server")]
pub mod notify;
#[cfg(feature = "server")]
pub mod runs;
#[cfg(feature = "server")]
pub mod store;
