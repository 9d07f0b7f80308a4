//! The time every rule reads: the real clock in production, a settable one in tests, so waiver
//! expiry, schedules and reminders can be tested without waiting.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

/// A cheaply cloned clock handle.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<RwLock<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn real() -> Clock {
        Clock { fixed: None }
    }

    /// A clock that stays at `at` until [`Clock::set`] or [`Clock::advance`] moves it.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock {
            fixed: Some(Arc::new(RwLock::new(at))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            None => Utc::now(),
            Some(at) => *at.read().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a fixed clock (no effect on the real one).
    pub fn set(&self, to: DateTime<Utc>) {
        if let Some(at) = &self.fixed {
            *at.write().unwrap_or_else(|e| e.into_inner()) = to;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        let now = self.now();
        self.set(now + by);
    }
}
