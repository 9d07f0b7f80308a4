//! A per-replica cache of read-heavy answers, keyed by the database's data version (the
//! `catalogue_version` row, moved by triggers whenever the catalogue, the calendar or the audit
//! log changes). An answer is reused only while the version it was computed at is still current;
//! authorization still runs on every call, before the cache is consulted.
//!
//! The replica learns the current version without asking the database on every request: it
//! listens on the `demarc_changes` channel, where the same triggers announce every new version
//! (notifications are delivered at commit, so a notified version is always visible). While that
//! listener is connected and caught up the cache is *live* and reads the version from memory;
//! otherwise (at start, after a lost connection) it asks the database each time. A write served
//! by this replica refreshes the version from the database before its response leaves
//! ([`CatalogueCache::after_local_write`]), so a client always reads its own writes here; other
//! replicas see them when the notification arrives, a few milliseconds later.
//!
//! API tokens are cached the same way: a token found valid is remembered for a short while, and
//! forgotten at once when any token is revoked or changed (a notification, or a write here).

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::auth::Actor;
use crate::db::PgPool;
use crate::model::{Application, Page};

/// Upper bound on cached list pages and tokens; a map is emptied when it is reached.
const MAX_ENTRIES: usize = 512;

/// The channel the version triggers notify (see the `change_feed` migration).
pub const CHANNEL: &str = "demarc_changes";

/// How long a valid token is trusted without asking the database, even with no notification.
const TOKEN_TTL: Duration = Duration::from_secs(30);

/// A list page, the version it was computed at, and its JSON (encoded once, on first use).
#[derive(Clone)]
pub struct CachedPage {
    pub page: Arc<Page<Application>>,
    json: Arc<std::sync::OnceLock<Arc<[u8]>>>,
}

impl CachedPage {
    fn new(page: Page<Application>) -> Self {
        Self {
            page: Arc::new(page),
            json: Arc::default(),
        }
    }

    /// The page as JSON, encoded at most once per cached page (a failed encoding is an error,
    /// never an empty answer, and is not remembered).
    pub fn json(&self) -> crate::Result<Arc<[u8]>> {
        if let Some(json) = self.json.get() {
            return Ok(json.clone());
        }
        let json: Arc<[u8]> = serde_json::to_vec(&*self.page)
            .map_err(|e| crate::error::internal(&e))?
            .into();
        Ok(self.json.get_or_init(|| json).clone())
    }
}

/// A token found valid, as the database answered.
#[derive(Clone)]
pub struct CachedToken {
    pub actor: Actor,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    cached_at: Instant,
}

/// Cached answers for one database.
#[derive(Default)]
pub struct CatalogueCache {
    /// True while the change listener is connected and has read the version since connecting.
    live: AtomicBool,
    /// The highest version this replica knows to be committed.
    version: AtomicI64,
    pages: Mutex<HashMap<String, (i64, CachedPage)>>,
    tokens: Mutex<Tokens>,
    /// Other answers (the dashboard's parts), by name: the key they were computed for and the value.
    memos: Mutex<HashMap<&'static str, (MemoKey, Memo)>>,
    /// The change listener's task, stopped with the cache.
    listener: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Drop for CatalogueCache {
    fn drop(&mut self) {
        if let Some(task) = self.listener.get_mut().ok().and_then(Option::take) {
            task.abort();
        }
    }
}

/// Valid tokens by hash, and how many times the map was cleared: a lookup that started before a
/// clear must not put back what the clear removed (a token revoked while it was being read).
#[derive(Default)]
struct Tokens {
    by_hash: HashMap<Vec<u8>, CachedToken>,
    epoch: u64,
}

impl Tokens {
    fn clear(&mut self) {
        self.by_hash.clear();
        self.epoch += 1;
    }
}

/// A remembered answer of any type.
type Memo = Arc<dyn Any + Send + Sync>;

/// What a remembered answer depends on: the data version and a caller-chosen time bucket (the
/// day or minute its time-dependent parts were computed for).
pub type MemoKey = (i64, i64);

impl std::fmt::Debug for CatalogueCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogueCache")
            .field("live", &self.live.load(Ordering::Relaxed))
            .field("version", &self.version.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The current version, as the database has it.
async fn read_version<'c, E: sqlx::PgExecutor<'c>>(db: E) -> crate::Result<i64> {
    Ok(sqlx::query_scalar!("SELECT version FROM catalogue_version")
        .fetch_one(db)
        .await?)
}

impl CatalogueCache {
    /// The current data version: from memory while live, else from the database.
    pub async fn version(&self, pool: &PgPool) -> crate::Result<i64> {
        if self.live.load(Ordering::Acquire) {
            return Ok(self.version.load(Ordering::Acquire));
        }
        let v = read_version(pool).await?;
        self.version.fetch_max(v, Ordering::AcqRel);
        Ok(v)
    }

    /// True while versions come from the change listener.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Called after this replica served a request that may have written (every POST, also
    /// server functions that only read): its own changes must be visible to the next read here,
    /// before any notification arrives. When the version moved, tokens are forgotten too: the
    /// write may have been a revocation (every change is audited, so every change moves it).
    pub async fn after_local_write(&self, pool: &PgPool) {
        match read_version(pool).await {
            Ok(v) => {
                if self.version.fetch_max(v, Ordering::AcqRel) < v {
                    self.forget_tokens();
                }
            }
            // The database did not answer: the write's version arrives by notification, as it
            // does on every other replica; tokens are forgotten in case it was a revocation.
            Err(_) => self.forget_tokens(),
        }
    }

    /// A list page computed at `version` for `key`, if still current.
    pub fn page(&self, key: &str, version: i64) -> Option<CachedPage> {
        let pages = self.pages.lock().expect("cache lock poisoned");
        pages
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, p)| p.clone())
    }

    /// Remembers a list page and returns it as cached.
    pub fn put_page(&self, key: String, version: i64, page: Page<Application>) -> CachedPage {
        let cached = CachedPage::new(page);
        let mut pages = self.pages.lock().expect("cache lock poisoned");
        if pages.len() >= MAX_ENTRIES {
            pages.clear();
        }
        pages.insert(key, (version, cached.clone()));
        cached
    }

    /// A value remembered under `name` for exactly `key`.
    pub fn memo<V: Any + Send + Sync>(&self, name: &'static str, key: MemoKey) -> Option<Arc<V>> {
        let memos = self.memos.lock().expect("cache lock poisoned");
        let (k, v) = memos.get(name)?;
        if *k != key {
            return None;
        }
        v.clone().downcast::<V>().ok()
    }

    /// Remembers `value` under `name` for `key`, replacing what was there.
    pub fn put_memo<V: Any + Send + Sync>(&self, name: &'static str, key: MemoKey, value: Arc<V>) {
        self.memos
            .lock()
            .expect("cache lock poisoned")
            .insert(name, (key, value));
    }

    fn forget_tokens(&self) {
        self.tokens.lock().expect("cache lock poisoned").clear();
    }

    /// A token remembered as valid, if the cache is live, the entry is fresh and the token has
    /// not expired since; and the epoch to hand to [`Self::put_token`] after asking the database.
    pub fn token(&self, hash: &[u8], now: DateTime<Utc>) -> (Option<CachedToken>, u64) {
        let tokens = self.tokens.lock().expect("cache lock poisoned");
        let cached = self
            .is_live()
            .then(|| tokens.by_hash.get(hash))
            .flatten()
            .filter(|t| t.cached_at.elapsed() < TOKEN_TTL && t.expires_at > now)
            .cloned();
        (cached, tokens.epoch)
    }

    /// Remembers a token the database found valid, unless tokens were forgotten since `epoch`
    /// (the answer may predate a revocation).
    pub fn put_token(
        &self,
        epoch: u64,
        hash: Vec<u8>,
        actor: Actor,
        expires_at: DateTime<Utc>,
        last_used_at: Option<DateTime<Utc>>,
    ) {
        let mut tokens = self.tokens.lock().expect("cache lock poisoned");
        if tokens.epoch != epoch {
            return;
        }
        if tokens.by_hash.len() >= MAX_ENTRIES {
            tokens.by_hash.clear();
        }
        tokens.by_hash.insert(
            hash,
            CachedToken {
                actor,
                expires_at,
                last_used_at,
                cached_at: Instant::now(),
            },
        );
    }

    fn apply(&self, payload: &str) {
        match payload.split_once(' ') {
            Some(("catalogue", v)) => {
                if let Ok(v) = v.parse::<i64>() {
                    self.version.fetch_max(v, Ordering::AcqRel);
                }
            }
            _ if payload == "tokens" => self.forget_tokens(),
            _ => {}
        }
    }
}

/// Keeps `cache` live: listens on [`CHANNEL`] over a connection of its own, and after every
/// (re)connection reads the version before trusting memory again. Runs until the cache is
/// dropped (the server stopped); the task holds no strong reference to it.
pub fn follow_changes(pool: &PgPool, cache: &Arc<CatalogueCache>) {
    // A private pool of one: the listener must not hold one of the request pool's connections.
    let options = (*pool.connect_options()).clone();
    let weak = Arc::downgrade(cache);
    let task = tokio::spawn(async move {
        let listen_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(options);
        let mut backoff = Duration::from_millis(100);
        loop {
            match follow_once(&listen_pool, &weak).await {
                Ok(Followed::CacheGone) => return,
                Ok(Followed::ConnectionLost) => backoff = Duration::from_millis(100),
                Err(e) => {
                    tracing::warn!(error = %e, "change listener: cannot listen; reading versions from the database");
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
            match weak.upgrade() {
                Some(cache) => cache.live.store(false, Ordering::Release),
                None => return,
            }
            tokio::time::sleep(backoff).await;
        }
    });
    *cache.listener.lock().expect("cache lock poisoned") = Some(task.abort_handle());
}

enum Followed {
    CacheGone,
    ConnectionLost,
}

async fn follow_once(pool: &PgPool, weak: &Weak<CatalogueCache>) -> crate::Result<Followed> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Listening first, then reading (on the listener's own connection, the pool's only one): a
    // version committed in between arrives as a notification.
    let v = read_version(&mut listener).await;
    {
        let Some(cache) = weak.upgrade() else {
            return Ok(Followed::CacheGone);
        };
        cache.version.fetch_max(v?, Ordering::AcqRel);
        cache.forget_tokens();
        cache.live.store(true, Ordering::Release);
    }
    loop {
        let next = listener.try_recv().await?;
        let Some(cache) = weak.upgrade() else {
            return Ok(Followed::CacheGone);
        };
        match next {
            Some(n) => cache.apply(n.payload()),
            None => return Ok(Followed::ConnectionLost),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_only_move_the_version_forward_and_clear_tokens() {
        let cache = CatalogueCache::default();
        cache.apply("catalogue 7");
        cache.apply("catalogue 5");
        assert_eq!(cache.version.load(Ordering::Relaxed), 7);
        cache.put_token(0, b"h".to_vec(), Actor::system(), Utc::now(), None);
        cache.apply("tokens");
        assert!(cache.tokens.lock().unwrap().by_hash.is_empty());
        cache.apply("catalogue nonsense");
        assert_eq!(cache.version.load(Ordering::Relaxed), 7);
    }

    #[test]
    fn tokens_are_trusted_only_while_live_and_unexpired() {
        let cache = CatalogueCache::default();
        let now = Utc::now();
        let hour = now + chrono::Duration::hours(1);
        cache.put_token(0, b"a".to_vec(), Actor::system(), hour, None);
        cache.put_token(0, b"b".to_vec(), Actor::system(), now, None);
        assert!(cache.token(b"a", now).0.is_none(), "not live yet");
        cache.live.store(true, Ordering::Release);
        assert!(cache.token(b"a", now).0.is_some());
        assert!(cache.token(b"b", now).0.is_none(), "expired");
        assert!(cache.token(b"c", now).0.is_none(), "unknown");
    }

    #[test]
    fn a_lookup_older_than_a_revocation_is_not_remembered() {
        let cache = CatalogueCache::default();
        cache.live.store(true, Ordering::Release);
        let now = Utc::now();
        let hour = now + chrono::Duration::hours(1);
        let (cached, epoch) = cache.token(b"a", now);
        assert!(cached.is_none());
        // The database said "valid"; meanwhile the token was revoked and the cache told.
        cache.apply("tokens");
        cache.put_token(epoch, b"a".to_vec(), Actor::system(), hour, None);
        let (cached, epoch) = cache.token(b"a", now);
        assert!(cached.is_none(), "the stale answer was remembered");
        cache.put_token(epoch, b"a".to_vec(), Actor::system(), hour, None);
        assert!(cache.token(b"a", now).0.is_some());
    }

    #[test]
    fn memos_answer_only_for_their_exact_key_and_type() {
        let cache = CatalogueCache::default();
        cache.put_memo("n", (3, 1), Arc::new(42_u32));
        assert_eq!(cache.memo::<u32>("n", (3, 1)).as_deref(), Some(&42));
        assert!(cache.memo::<u32>("n", (4, 1)).is_none());
        assert!(cache.memo::<u32>("n", (3, 2)).is_none());
        assert!(cache.memo::<String>("n", (3, 1)).is_none());
    }
}
