//! Cluster connections: how Demarc reaches an environment's Kubernetes API. The token or
//! kubeconfig is sealed (see [`crate::crypto`]) and never returned; it is opened only to build a
//! client for a verification or a connection test.

use checks::cluster::ConnectionSpec;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::model::{ClusterConnection, ConnectionInput, ConnectionTest};
use crate::audit;
use crate::auth::Action;
use crate::crypto::SecretBox;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result};
use crate::validate::Problems;

struct Row {
    environment_id: Uuid,
    mode: String,
    server_url: String,
    context: String,
    ca_pem: String,
    secret: Option<Vec<u8>>,
    verify_every_minutes: Option<i32>,
    last_tested_at: Option<DateTime<Utc>>,
    last_server_version: Option<String>,
    last_missing: Option<Json<Vec<String>>>,
    last_test_error: Option<String>,
    updated_by: String,
    updated_at: DateTime<Utc>,
    version: i32,
}

impl Row {
    fn public(&self) -> ClusterConnection {
        ClusterConnection {
            environment_id: self.environment_id,
            mode: self.mode.clone(),
            server_url: self.server_url.clone(),
            context: self.context.clone(),
            has_ca: !self.ca_pem.is_empty(),
            has_secret: self.secret.is_some(),
            verify_every_minutes: self.verify_every_minutes,
            last_tested_at: self.last_tested_at,
            last_server_version: self.last_server_version.clone(),
            last_missing: self
                .last_missing
                .as_ref()
                .map(|m| m.0.clone())
                .unwrap_or_default(),
            last_test_error: self.last_test_error.clone(),
            updated_by: self.updated_by.clone(),
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

async fn fetch(conn: &mut PgConnection, environment_id: Uuid, lock: bool) -> Result<Option<Row>> {
    let row = if lock {
        sqlx::query_as!(
            Row,
            r#"SELECT environment_id, mode, server_url, context, ca_pem, secret, verify_every_minutes,
                      last_tested_at, last_server_version, last_missing AS "last_missing: Json<Vec<String>>",
                      last_test_error, updated_by, updated_at, version
               FROM cluster_connections WHERE environment_id = $1 FOR UPDATE"#,
            environment_id
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_as!(
            Row,
            r#"SELECT environment_id, mode, server_url, context, ca_pem, secret, verify_every_minutes,
                      last_tested_at, last_server_version, last_missing AS "last_missing: Json<Vec<String>>",
                      last_test_error, updated_by, updated_at, version
               FROM cluster_connections WHERE environment_id = $1"#,
            environment_id
        )
        .fetch_optional(conn)
        .await?
    };
    Ok(row)
}

fn context_of(environment_id: Uuid) -> String {
    format!("cluster:{environment_id}")
}

/// The connection of an environment, without its secret.
pub async fn get(
    pool: &PgPool,
    caller: &Caller,
    environment_id: Uuid,
) -> Result<Option<ClusterConnection>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    Ok(fetch(&mut conn, environment_id, false)
        .await?
        .map(|r| r.public()))
}

/// What an empty secret means when a connection is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoredSecret {
    /// No secret is stored for this mode: one must be given.
    Missing,
    /// The stored secret would go where it went before: an empty secret keeps it.
    Kept,
    /// The input points the stored token at another API server or trusts another CA: keeping
    /// it would let whoever may edit the connection (but never saw the token) send it to a
    /// server of their choosing with *Test connection*, so it must be given again.
    Redirected,
}

/// Whether the stored secret may be kept by an input with an empty secret. In token mode the
/// token is bound to the API server address and CA it was saved with; a kubeconfig carries its
/// servers and CAs inside the sealed secret (its `context` only picks one of the pairs of
/// cluster and user its author wrote), so it is kept whatever else changes.
fn stored_secret(before: Option<&Row>, input: &ConnectionInput) -> StoredSecret {
    let Some(row) = before.filter(|r| r.secret.is_some() && r.mode == input.mode) else {
        return StoredSecret::Missing;
    };
    if row.mode != "token" {
        return StoredSecret::Kept;
    }
    let ca = input.ca_pem.trim();
    // An empty CA keeps the stored one (see `set`).
    let same_ca = ca.is_empty() || ca == row.ca_pem;
    if input.server_url.trim() == row.server_url && same_ca {
        StoredSecret::Kept
    } else {
        StoredSecret::Redirected
    }
}

fn validate(input: &ConnectionInput, stored: StoredSecret) -> Problems {
    let mut p = Problems::default();
    let has_stored_secret = stored == StoredSecret::Kept;
    let secret_given = !input.secret.trim().is_empty();
    match input.mode.as_str() {
        "in_cluster" => {
            if secret_given {
                p.add(
                    "secret",
                    "In-cluster connections use Demarc's own service account: leave the secret empty.",
                );
            }
        }
        "token" => {
            let url = input.server_url.trim();
            match url::Url::parse(url) {
                Ok(u)
                    if u.scheme() == "http"
                        && !matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) =>
                {
                    p.add(
                        "server_url",
                        "Use https: over plain http the token would cross the network in clear (http is accepted only for 127.0.0.1 and localhost).",
                    )
                }
                Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {}
                _ => p.add(
                    "server_url",
                    "Give the API server's address, e.g. https://api.cluster.example.com:6443.",
                ),
            }
            if !secret_given && stored == StoredSecret::Redirected {
                p.add(
                    "secret",
                    "The API server address or its CA changed: give the bearer token again. A stored token is only ever sent to the server it was saved for.",
                );
            } else if !secret_given && !has_stored_secret {
                p.add("secret", "Give the service account's bearer token.");
            }
            let ca = input.ca_pem.trim();
            if !ca.is_empty() && !ca.contains("-----BEGIN CERTIFICATE-----") {
                p.add(
                    "ca_pem",
                    "Paste the CA certificate in PEM form (-----BEGIN CERTIFICATE-----), or leave it empty.",
                );
            }
        }
        "kubeconfig" => {
            if !secret_given && !has_stored_secret {
                p.add("secret", "Paste the kubeconfig file.");
            }
            if secret_given && !input.secret.contains("clusters") {
                p.add(
                    "secret",
                    "This does not look like a kubeconfig (no clusters section).",
                );
            } else if secret_given
                && let Some(problem) =
                    checks::cluster::stored_connection_problem(&ConnectionSpec::Kubeconfig {
                        yaml: input.secret.clone(),
                        context: None,
                    })
            {
                p.add(
                    "secret",
                    format!("This kubeconfig cannot be used: {problem}."),
                );
            }
        }
        _ => p.add("mode", "Choose in_cluster, kubeconfig or token."),
    }
    if input.secret.len() > 256 * 1024 {
        p.add("secret", "At most 256 KiB.");
    }
    if let Some(m) = input.verify_every_minutes
        && !(5..=10080).contains(&m)
    {
        p.add(
            "verify_every_minutes",
            "Use 5 to 10,080 minutes (a week), or leave it empty to verify only on demand.",
        );
    }
    p
}

/// Sets (creates or replaces) an environment's connection. An empty secret keeps the stored one
/// when the mode stays the same and, in token mode, the API server address and CA too.
#[tracing::instrument(skip_all, fields(%environment_id))]
pub async fn set(
    pool: &PgPool,
    caller: &Caller,
    secrets: &SecretBox,
    environment_id: Uuid,
    input: ConnectionInput,
) -> Result<ClusterConnection> {
    caller.actor.authorize(Action::ManageGoLive)?;
    let mut tx = pool.begin().await?;
    let env_exists = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM environments WHERE id = $1"#,
        environment_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if env_exists == 0 {
        return Err(Error::not_found("environment"));
    }
    let before = fetch(&mut tx, environment_id, true).await?;
    let current_version = before.as_ref().map_or(0, |r| r.version);
    validate(&input, stored_secret(before.as_ref(), &input)).finish()?;
    if input.version != current_version {
        return Err(Error::stale("cluster connection"));
    }
    let secret = if input.mode == "in_cluster" {
        None
    } else if input.secret.trim().is_empty() {
        before.as_ref().and_then(|r| r.secret.clone())
    } else {
        Some(secrets.seal(&context_of(environment_id), input.secret.trim().as_bytes())?)
    };
    // Like the secret, an empty CA keeps the stored one when the mode stays the same.
    let kept_ca = before
        .as_ref()
        .filter(|r| r.mode == input.mode && input.ca_pem.trim().is_empty())
        .map(|r| r.ca_pem.clone())
        .unwrap_or_else(|| input.ca_pem.trim().to_owned());
    let (server_url, ca_pem, context) = match input.mode.as_str() {
        "token" => (input.server_url.trim(), kept_ca.as_str(), ""),
        "kubeconfig" => ("", "", input.context.trim()),
        _ => ("", "", ""),
    };
    // The known server version stays while the connection still reaches the same cluster (a new
    // schedule, a rotated token): the calendar's end-of-life warnings read it. Another address,
    // context or kubeconfig may be another cluster, so then it is forgotten with the last test.
    let same_cluster = before.as_ref().is_some_and(|r| {
        r.mode == input.mode
            && r.server_url == server_url
            && r.context == context
            && (input.mode != "kubeconfig" || input.secret.trim().is_empty())
    });
    let row = sqlx::query_as!(
        Row,
        r#"INSERT INTO cluster_connections (environment_id, mode, server_url, context, ca_pem, secret, verify_every_minutes, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (environment_id) DO UPDATE SET
               mode = EXCLUDED.mode, server_url = EXCLUDED.server_url, context = EXCLUDED.context,
               ca_pem = EXCLUDED.ca_pem, secret = EXCLUDED.secret,
               verify_every_minutes = EXCLUDED.verify_every_minutes, updated_by = EXCLUDED.updated_by,
               last_tested_at = NULL, last_missing = NULL, last_test_error = NULL,
               last_server_version = CASE WHEN $9 THEN cluster_connections.last_server_version END,
               version = cluster_connections.version + 1
           RETURNING environment_id, mode, server_url, context, ca_pem, secret, verify_every_minutes,
                     last_tested_at, last_server_version, last_missing AS "last_missing: Json<Vec<String>>",
                     last_test_error, updated_by, updated_at, version"#,
        environment_id,
        input.mode,
        server_url,
        context,
        ca_pem,
        secret,
        input.verify_every_minutes,
        caller.actor.name,
        same_cluster,
    )
    .fetch_one(&mut *tx)
    .await?;
    let after = row.public();
    audit::record(
        &mut tx,
        caller,
        "cluster_connection.set",
        "cluster_connection",
        &environment_id.to_string(),
        before.as_ref().map(Row::public).as_ref(),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Removes an environment's connection (verifications stop; history stays).
pub async fn remove(pool: &PgPool, caller: &Caller, environment_id: Uuid) -> Result<()> {
    caller.actor.authorize(Action::ManageGoLive)?;
    let mut tx = pool.begin().await?;
    let before = fetch(&mut tx, environment_id, true)
        .await?
        .ok_or_else(|| Error::not_found("cluster connection"))?;
    sqlx::query!(
        "DELETE FROM cluster_connections WHERE environment_id = $1",
        environment_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "cluster_connection.remove",
        "cluster_connection",
        &environment_id.to_string(),
        Some(&before.public()),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The connection's client settings with the secret opened: only for building a client.
pub(crate) async fn spec(
    conn: &mut PgConnection,
    secrets: &SecretBox,
    environment_id: Uuid,
) -> Result<ConnectionSpec> {
    let row = fetch(conn, environment_id, false).await?.ok_or_else(|| {
        Error::invalid(
            "environment",
            "This environment has no cluster connection: a platform engineer sets one on the environment's go-live settings.",
        )
    })?;
    let secret = |row: &Row| -> Result<String> {
        let sealed = row.secret.as_deref().ok_or_else(|| Error::Conflict {
            message: "The connection has no stored secret. Enter it again.".into(),
        })?;
        let plain = secrets.open(&context_of(environment_id), sealed)?;
        String::from_utf8(plain).map_err(|_| Error::Conflict {
            message: "The stored secret is unreadable. Enter it again.".into(),
        })
    };
    let spec = match row.mode.as_str() {
        "token" => ConnectionSpec::Token {
            server: row.server_url.clone(),
            ca_pem: (!row.ca_pem.is_empty()).then(|| row.ca_pem.clone()),
            token: secret(&row)?,
        },
        "kubeconfig" => ConnectionSpec::Kubeconfig {
            yaml: secret(&row)?,
            context: (!row.context.is_empty()).then(|| row.context.clone()),
        },
        _ => ConnectionSpec::InCluster,
    };
    // Saving refuses such settings; one stored before that rule is refused here, before use.
    if let Some(problem) = checks::cluster::stored_connection_problem(&spec) {
        return Err(Error::Conflict {
            message: format!("The stored connection cannot be used: {problem}. Enter it again."),
        });
    }
    Ok(spec)
}

/// Connects with the stored settings and reports the server version and the permissions the
/// credentials lack (by name, from access reviews). The answer is kept on the connection.
#[tracing::instrument(skip_all, fields(%environment_id))]
pub async fn test(
    pool: &PgPool,
    caller: &Caller,
    secrets: &SecretBox,
    environment_id: Uuid,
    now: DateTime<Utc>,
) -> Result<ConnectionTest> {
    caller.actor.authorize(Action::ManageGoLive)?;
    let spec = {
        let mut conn = pool.acquire().await?;
        spec(&mut conn, secrets, environment_id).await?
    };
    let result = match checks::cluster::client(&spec).await {
        Err(e) => ConnectionTest {
            ok: false,
            server_version: None,
            missing: vec![],
            error: Some(e.to_string()),
        },
        Ok(client) => match checks::cluster::test_connection(&client).await {
            // A permission that could not be checked is listed with the missing ones, with
            // its reason: it is not known to be granted.
            Ok(report) => ConnectionTest {
                ok: report.all_granted(),
                server_version: Some(report.server_version),
                missing: report.missing.into_iter().chain(report.unchecked).collect(),
                error: None,
            },
            Err(e) => ConnectionTest {
                ok: false,
                server_version: None,
                missing: vec![],
                error: Some(e.to_string()),
            },
        },
    };
    // A failed test is recorded (time and error), but it says nothing about the cluster's version:
    // the last one known stays, or the calendar's end-of-life warnings would stop because the
    // API server was briefly unreachable.
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE cluster_connections SET last_tested_at = $2, last_server_version = COALESCE($3, last_server_version),
                last_missing = $4, last_test_error = $5
         WHERE environment_id = $1",
        environment_id,
        now,
        result.server_version,
        Json(&result.missing) as _,
        result.error,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "cluster_connection.test",
        "cluster_connection",
        &environment_id.to_string(),
        None::<&()>,
        Some(&result),
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(mode: &str, server_url: &str, ca_pem: &str) -> Row {
        Row {
            environment_id: Uuid::nil(),
            mode: mode.into(),
            server_url: server_url.into(),
            context: String::new(),
            ca_pem: ca_pem.into(),
            secret: Some(vec![1, 2, 3]),
            verify_every_minutes: None,
            last_tested_at: None,
            last_server_version: None,
            last_missing: None,
            last_test_error: None,
            updated_by: String::new(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    fn token(server_url: &str, ca_pem: &str, secret: &str) -> ConnectionInput {
        ConnectionInput {
            mode: "token".into(),
            server_url: server_url.into(),
            ca_pem: ca_pem.into(),
            secret: secret.into(),
            version: 1,
            ..Default::default()
        }
    }

    const CA: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
    const OTHER_CA: &str = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----";

    #[test]
    fn a_stored_token_is_kept_only_for_the_server_and_ca_it_was_saved_for() {
        let row = stored("token", "https://api.prod.example:6443", CA);
        let keep = |input: &ConnectionInput| stored_secret(Some(&row), input);
        assert_eq!(
            keep(&token(" https://api.prod.example:6443 ", "", "")),
            StoredSecret::Kept
        );
        assert_eq!(
            keep(&token("https://api.prod.example:6443", CA, "")),
            StoredSecret::Kept
        );
        assert_eq!(
            keep(&token("https://attacker.example", "", "")),
            StoredSecret::Redirected
        );
        assert_eq!(
            keep(&token("https://api.prod.example:6443", OTHER_CA, "")),
            StoredSecret::Redirected
        );
        // Another mode never inherits the secret; none stored is none kept.
        let mut kubeconfig = token("", "", "");
        kubeconfig.mode = "kubeconfig".into();
        assert_eq!(keep(&kubeconfig), StoredSecret::Missing);
        assert_eq!(
            stored_secret(None, &token("https://api.prod.example:6443", "", "")),
            StoredSecret::Missing
        );
    }

    #[test]
    fn an_empty_token_for_another_server_is_refused_naming_the_secret() {
        let row = stored("token", "https://api.prod.example:6443", "");
        let input = token("https://attacker.example", "", "");
        let problems = validate(&input, stored_secret(Some(&row), &input));
        let Err(Error::Invalid { fields }) = problems.finish() else {
            panic!("refused");
        };
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["secret"]);
        assert!(fields["secret"].contains("give the bearer token again"));
        // With the token given again, the new address is accepted.
        let input = token("https://api.other.example", "", "new-token");
        assert!(
            validate(&input, stored_secret(Some(&row), &input))
                .finish()
                .is_ok()
        );
    }

    #[test]
    fn a_kubeconfig_is_kept_whatever_context_is_chosen() {
        let row = stored("kubeconfig", "", "");
        let input = ConnectionInput {
            mode: "kubeconfig".into(),
            context: "staging".into(),
            ..Default::default()
        };
        assert_eq!(stored_secret(Some(&row), &input), StoredSecret::Kept);
    }
}
