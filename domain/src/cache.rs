//! A per-replica cache of read-heavy catalogue answers, keyed by the database's catalogue version
//! (see the `catalogue_version` migration). An answer is reused only while the version it was
//! computed at is still current, so no replica ever serves data older than the last change it
//! could see; authorization still runs on every call, before the cache is consulted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::db::PgPool;
use crate::model::{Application, Dashboard, Page};

/// Upper bound on cached list pages; the cache is emptied when it is reached.
const MAX_ENTRIES: usize = 512;

/// A list page and the catalogue version it was computed at.
type VersionedPage = (i64, Arc<Page<Application>>);

/// The dashboard depends on the catalogue and on the date (audits become overdue at midnight).
pub type DashboardKey = (i64, chrono::NaiveDate);

/// Cached answers for one database.
#[derive(Default)]
pub struct CatalogueCache {
    pages: Mutex<HashMap<String, VersionedPage>>,
    dashboard: Mutex<Option<(DashboardKey, Dashboard)>>,
}

impl std::fmt::Debug for CatalogueCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CatalogueCache")
    }
}

/// The current catalogue version.
pub async fn version(pool: &PgPool) -> crate::Result<i64> {
    Ok(sqlx::query_scalar!("SELECT version FROM catalogue_version")
        .fetch_one(pool)
        .await?)
}

/// The current catalogue version and the database's current date.
pub async fn version_and_date(pool: &PgPool) -> crate::Result<DashboardKey> {
    let row = sqlx::query!(r#"SELECT version, current_date AS "today!" FROM catalogue_version"#)
        .fetch_one(pool)
        .await?;
    Ok((row.version, row.today))
}

impl CatalogueCache {
    /// A list page computed at `version` for `key`, if still current.
    pub fn page(&self, key: &str, version: i64) -> Option<Arc<Page<Application>>> {
        let pages = self.pages.lock().expect("cache lock poisoned");
        pages
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, p)| p.clone())
    }

    /// Remembers a list page.
    pub fn put_page(&self, key: String, version: i64, page: Arc<Page<Application>>) {
        let mut pages = self.pages.lock().expect("cache lock poisoned");
        if pages.len() >= MAX_ENTRIES {
            pages.clear();
        }
        pages.insert(key, (version, page));
    }

    /// The dashboard's counts computed at `key`, if still current.
    pub fn dashboard(&self, key: DashboardKey) -> Option<Dashboard> {
        let d = self.dashboard.lock().expect("cache lock poisoned");
        d.as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, d)| d.clone())
    }

    /// Remembers the dashboard's counts.
    pub fn put_dashboard(&self, key: DashboardKey, dashboard: Dashboard) {
        *self.dashboard.lock().expect("cache lock poisoned") = Some((key, dashboard));
    }
}
