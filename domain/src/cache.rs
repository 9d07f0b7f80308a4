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

/// Cached answers for one database.
#[derive(Default)]
pub struct CatalogueCache {
    pages: Mutex<HashMap<String, VersionedPage>>,
    dashboard: Mutex<Option<(i64, Dashboard)>>,
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

    /// The dashboard's counts computed at `version`, if still current.
    pub fn dashboard(&self, version: i64) -> Option<Dashboard> {
        let d = self.dashboard.lock().expect("cache lock poisoned");
        d.as_ref()
            .filter(|(v, _)| *v == version)
            .map(|(_, d)| d.clone())
    }

    /// Remembers the dashboard's counts.
    pub fn put_dashboard(&self, version: i64, dashboard: Dashboard) {
        *self.dashboard.lock().expect("cache lock poisoned") = Some((version, dashboard));
    }
}
