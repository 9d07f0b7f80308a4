//! A fresh PostgreSQL database per test.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};

/// Where test databases are created. Its database is only used to run `CREATE DATABASE`.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Databases of test runs that died without cleaning up are dropped once they are this old.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);

/// A database created for one test (`demarc_test_<uuid v7, simple>`), dropped when this value
/// is dropped (set `DEMARC_TEST_KEEP_DB=1` to keep it for a post-mortem).
pub struct TestDb {
    /// The database's name.
    pub name: String,
    /// A URL for it, to give the server as `DATABASE_URL`.
    pub url: String,
    admin_url: String,
}

/// The admin URL: `DEMARC_TEST_DATABASE_URL` or [`DEFAULT_ADMIN_URL`].
pub fn admin_url() -> String {
    std::env::var("DEMARC_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_owned())
}

impl TestDb {
    /// Creates an empty database (the server's migrations fill it).
    pub async fn create() -> TestDb {
        let admin_url = admin_url();
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "cannot connect to PostgreSQL at {admin_url} (set DEMARC_TEST_DATABASE_URL; \
                 scripts/test starts a private cluster): {e}"
            )
        });
        drop_leftovers(&mut admin).await;
        // A v7 uuid carries its creation time: leftovers can be recognised by age.
        let name = format!("demarc_test_{}", uuid::Uuid::now_v7().simple());
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
        let _ = admin.close().await;
        let mut url = url::Url::parse(&admin_url).expect("DEMARC_TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        TestDb {
            name,
            url: url.to_string(),
            admin_url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::env::var("DEMARC_TEST_KEEP_DB").is_ok_and(|v| v == "1") {
            eprintln!("kept test database {} ({})", self.name, self.url);
            return;
        }
        // Drop may run inside a runtime (or while unwinding): use a thread with its own.
        let name = self.name.clone();
        let admin_url = self.admin_url.clone();
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()?;
                let _ = admin.close().await;
                Some(())
            })
        });
        let _ = handle.join();
    }
}

/// Drops `demarc_test_*` databases older than an hour (runs killed before they cleaned up).
async fn drop_leftovers(admin: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'demarc\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    for name in names {
        let Some(created) = name
            .strip_prefix("demarc_test_")
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .and_then(|u| u.get_timestamp())
            .map(|t| Duration::from_secs(t.to_unix().0))
        else {
            continue;
        };
        if now.saturating_sub(created) > LEFTOVER_AGE {
            let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}
