//! Scope and demarcation: the fence around a platform team's responsibility.
//!
//! The types and pure rules here (parties, validation, the diff, the built-in template) are shared
//! with the UI; the PostgreSQL store lives in [`store`] and [`audits`] behind the `server` feature.
//!
//! A platform's scope has a *draft* (items and tenant rules, edited one at a time under optimistic
//! concurrency) and numbered *revisions*, each a frozen copy of the draft taken when a platform
//! engineer publishes it. "The scope as of a date" is the last revision published by then.

mod diff;
mod model;
mod template;

#[cfg(feature = "server")]
pub mod audits;
#[cfg(feature = "server")]
pub mod export;
#[cfg(feature = "server")]
pub mod store;

pub use diff::{Change, ChangeKind, FieldChange, ScopeDiff, diff};
pub use model::*;
pub use template::{BUILTIN_TEMPLATE_ID, builtin_template};
