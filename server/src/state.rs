//! The state every handler shares: one pool, the configuration, the OpenID relying party.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRef;
use domain::cache::CatalogueCache;
use domain::clock::Clock;
use domain::crypto::SecretBox;
use domain::db::PgPool;
use leptos::prelude::LeptosOptions;

use crate::auth::oidc::Oidc;
use crate::config::Config;

/// Shared, cheaply cloned application state.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub oidc: Arc<Oidc>,
    pub leptos_options: LeptosOptions,
    /// This replica's cache of read-heavy catalogue answers.
    pub cache: Arc<CatalogueCache>,
    pub shutting_down: Arc<ShutdownFlag>,
    /// Seals and opens secrets at rest (cluster credentials, webhook URLs).
    pub secrets: Arc<SecretBox>,
    /// The time every rule reads (settable in tests).
    pub clock: Clock,
}

/// Set when SIGTERM arrives, so readiness fails while in-flight requests finish.
#[derive(Default)]
pub struct ShutdownFlag(AtomicBool);

impl ShutdownFlag {
    /// Marks the process as draining.
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// True once draining started.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
