//! Demarc's domain: the product's rules and their storage.
//!
//! The model types, the error type and the authorization policy are plain Rust shared with the
//! UI (they also compile to wasm). Behind the `server` feature live the operations that read and
//! write PostgreSQL. Every change takes one path: authorize the actor, validate, write inside a
//! transaction, append the audit record in the same transaction, commit.

pub mod auth;
pub mod calendar;
pub mod error;
pub mod golive;
pub mod model;
pub mod scope;
pub mod validate;

#[cfg(feature = "server")]
pub mod applications;
#[cfg(feature = "server")]
pub mod audit;
#[cfg(feature = "server")]
pub mod cache;
#[cfg(feature = "server")]
pub mod clock;
#[cfg(feature = "server")]
pub mod crypto;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod deliveries;
#[cfg(feature = "server")]
pub mod egress;
#[cfg(feature = "server")]
pub mod environments;
#[cfg(feature = "server")]
pub mod jobs;
#[cfg(feature = "server")]
pub mod platforms;
#[cfg(feature = "server")]
pub mod sessions;
#[cfg(feature = "server")]
pub mod teams;
#[cfg(feature = "server")]
pub mod tokens;
#[cfg(feature = "server")]
pub mod users;

pub use auth::{Action, Actor, ActorKind, Role};
pub use error::{Error, Result};
