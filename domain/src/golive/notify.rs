//! Team notifications by webhook: a JSON body for automation, or a Slack-compatible one
//! (`{"text": ...}`). Each notice is one queue job per webhook, delivered with retries; every
//! attempt is recorded in `delivery_attempts`. Webhook URLs are sealed at rest.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{TeamWebhook, WebhookInput};
use crate::audit;
use crate::auth::Action;
use crate::crypto::SecretBox;
use crate::db::{Caller, PgPool};
use crate::egress::Egress;
use crate::error::{Error, Result, internal};
use crate::jobs;

pub const JOB_WEBHOOK: &str = "deliver_webhook";

/// A regression found after go-live.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Regression {
    pub item: String,
    pub title: String,
    pub message: String,
}

/// Which review a notification is about, named as people know it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReviewSubject {
    pub application: String,
    pub application_slug: String,
    pub team: String,
    pub environment: String,
    pub platform: String,
    pub review_id: Uuid,
}

/// What a drift notification says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriftNotice {
    #[serde(flatten)]
    pub subject: ReviewSubject,
    /// The run that found the regressions; none when they come from waivers that expired.
    pub run_id: Option<Uuid>,
    pub regressions: Vec<Regression>,
    pub detected_at: DateTime<Utc>,
}

/// What a "the cluster cannot be read any more" notification says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerificationFailedNotice {
    #[serde(flatten)]
    pub subject: ReviewSubject,
    pub run_id: Uuid,
    pub error: String,
    pub failed_at: DateTime<Utc>,
}

fn verification_failed_body(format: &str, notice: &VerificationFailedNotice) -> serde_json::Value {
    if format == "slack" {
        let text = format!(
            ":x: Demarc can no longer verify *{}* on {} / {}: {}\nIt is approved for go-live, but \
             nothing watches it for drift until the cluster can be read again: check the \
             environment's cluster connection.",
            slack(&notice.subject.application),
            slack(&notice.subject.platform),
            slack(&notice.subject.environment),
            slack(&notice.error),
        );
        serde_json::json!({ "text": text })
    } else {
        serde_json::json!({ "event": "golive.verification_failed", "failure": notice })
    }
}

/// Queues a "verification failed after go-live" notice to every webhook of the team, once per
/// `once` key (and webhook).
pub(crate) async fn enqueue_verification_failed(
    conn: &mut PgConnection,
    notice: &VerificationFailedNotice,
    once: &str,
    now: DateTime<Utc>,
) -> Result<u32> {
    let team = &notice.subject.team;
    let body = |format: &str| verification_failed_body(format, notice);
    to_team_once(conn, team, body, Some(once), now).await
}

/// Text for Slack's mrkdwn: `&`, `<` and `>` are its control characters (links, mentions).
fn slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[derive(Debug, Serialize, Deserialize)]
struct WebhookJob {
    webhook_id: Uuid,
    /// The JSON body (already in the webhook's format).
    body: serde_json::Value,
    /// When the notice stops being true; a delivery retried past it is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stale_after: Option<DateTime<Utc>>,
}

/// What a delivery attempt records for a notice dropped because it came due too late (a
/// reminder whose window had opened while the receiver was unreachable).
pub(crate) const STALE: &str = "not sent: no longer true (its maintenance had started)";

fn seal_context(id: Uuid) -> String {
    format!("webhook:{id}")
}

fn drift_body(format: &str, notice: &DriftNotice) -> serde_json::Value {
    if format == "slack" {
        let mut text = format!(
            ":warning: *{}* on {} / {} no longer passes {} go-live check{}:",
            slack(&notice.subject.application),
            slack(&notice.subject.platform),
            slack(&notice.subject.environment),
            notice.regressions.len(),
            if notice.regressions.len() == 1 {
                ""
            } else {
                "s"
            }
        );
        for r in &notice.regressions {
            text.push_str(&format!("\n• *{}*: {}", slack(&r.title), slack(&r.message)));
        }
        serde_json::json!({ "text": text })
    } else {
        serde_json::json!({ "event": "golive.drift", "drift": notice })
    }
}

/// A waiver on an approved review that runs out soon.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpiringWaiver {
    pub item: String,
    pub title: String,
    pub reason: String,
    pub expires_at: DateTime<Utc>,
}

/// What a "waivers run out soon" notification says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WaiverNotice {
    #[serde(flatten)]
    pub subject: ReviewSubject,
    pub waivers: Vec<ExpiringWaiver>,
}

fn waiver_body(format: &str, notice: &WaiverNotice) -> serde_json::Value {
    if format == "slack" {
        let n = notice.waivers.len();
        let mut text = format!(
            ":hourglass: *{}* on {} / {}: {} waiver{} run{} out soon; then the item{} fail{} again:",
            slack(&notice.subject.application),
            slack(&notice.subject.platform),
            slack(&notice.subject.environment),
            n,
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
        );
        for w in &notice.waivers {
            text.push_str(&format!(
                "\n• *{}* on {} ({})",
                slack(&w.title),
                w.expires_at.format("%Y-%m-%d %H:%M UTC"),
                slack(&w.reason)
            ));
        }
        serde_json::json!({ "text": text })
    } else {
        serde_json::json!({ "event": "golive.waiver_expiring", "expiring": notice })
    }
}

/// Queues a drift notice to every webhook of the team (inside the caller's transaction).
pub(crate) async fn enqueue_drift(
    conn: &mut PgConnection,
    notice: &DriftNotice,
    now: DateTime<Utc>,
) -> Result<u32> {
    let team = &notice.subject.team;
    to_team(conn, team, |format| drift_body(format, notice), now).await
}

/// Queues a "waivers run out soon" notice to every webhook of the team.
pub(crate) async fn enqueue_waiver_warning(
    conn: &mut PgConnection,
    notice: &WaiverNotice,
    now: DateTime<Utc>,
) -> Result<u32> {
    let team = &notice.subject.team;
    to_team(conn, team, |format| waiver_body(format, notice), now).await
}

/// Queues one delivery per webhook of the team, its body in the webhook's format.
async fn to_team(
    conn: &mut PgConnection,
    team_slug: &str,
    body: impl Fn(&str) -> serde_json::Value,
    now: DateTime<Utc>,
) -> Result<u32> {
    to_team_once(conn, team_slug, body, None, now).await
}

/// [`to_team`], each delivery queued at most once per `once` key and webhook.
async fn to_team_once(
    conn: &mut PgConnection,
    team_slug: &str,
    body: impl Fn(&str) -> serde_json::Value,
    once: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u32> {
    let hooks = sqlx::query!(
        "SELECT w.id, w.format FROM team_webhooks w JOIN teams t ON t.id = w.team_id
         WHERE t.slug = $1 AND w.removed_at IS NULL",
        team_slug
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut n = 0;
    for hook in hooks {
        let key = once.map(|once| format!("{once}:{}", hook.id));
        enqueue_webhook(conn, hook.id, body(&hook.format), now, None, key.as_deref()).await?;
        n += 1;
    }
    Ok(n)
}

/// Queues one delivery of `body` (already in the webhook's format) to a webhook.
pub(crate) async fn enqueue_webhook(
    conn: &mut PgConnection,
    webhook_id: Uuid,
    body: serde_json::Value,
    now: DateTime<Utc>,
    stale_after: Option<DateTime<Utc>>,
    dedupe_key: Option<&str>,
) -> Result<()> {
    let job = WebhookJob {
        webhook_id,
        body,
        stale_after,
    };
    jobs::enqueue(conn, JOB_WEBHOOK, &job, now, dedupe_key).await?;
    Ok(())
}

/// Delivers one webhook job: POSTs the body, records the attempt; an error makes the queue retry.
pub(crate) async fn deliver(
    pool: &PgPool,
    secrets: &SecretBox,
    egress: &Egress,
    job: &jobs::Job,
    now: DateTime<Utc>,
) -> Result<()> {
    let payload: WebhookJob =
        serde_json::from_value(job.payload.clone()).map_err(|e| internal(&e))?;
    let hook = sqlx::query!(
        "SELECT url_sealed, hint, removed_at FROM team_webhooks WHERE id = $1",
        payload.webhook_id
    )
    .fetch_optional(pool)
    .await?;
    let Some(hook) = hook else {
        return Ok(());
    };
    if hook.removed_at.is_some() {
        return Ok(());
    }
    // A notice that is no longer true is recorded as dropped and not retried.
    let stale = payload.stale_after.is_some_and(|t| now >= t);
    let (ok, status, error) = if stale {
        (false, None, Some(STALE.to_owned()))
    } else {
        let url =
            String::from_utf8(secrets.open(&seal_context(payload.webhook_id), &hook.url_sealed)?)
                .map_err(|e| internal(&e))?;
        post(egress, &url, &hook.hint, job.id, &payload.body).await?
    };
    sqlx::query!(
        "INSERT INTO delivery_attempts (job_id, target, attempt, at, ok, status_code, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        job.id,
        format!("webhook:{}", hook.hint),
        job.attempt,
        now,
        ok,
        status.map(i32::from),
        error,
    )
    .execute(pool)
    .await?;
    match error {
        _ if stale => Ok(()),
        None => Ok(()),
        Some(e) => Err(Error::Conflict { message: e }),
    }
}

/// A team's webhooks.
pub async fn webhooks(pool: &PgPool, caller: &Caller, team_id: Uuid) -> Result<Vec<TeamWebhook>> {
    caller.actor.authorize(Action::Read)?;
    Ok(sqlx::query_as!(
        TeamWebhook,
        "SELECT id, team_id, format, hint, created_by, created_at FROM team_webhooks
         WHERE team_id = $1 AND removed_at IS NULL ORDER BY created_at",
        team_id
    )
    .fetch_all(pool)
    .await?)
}

async fn team_slug(pool: &PgPool, team_id: Uuid) -> Result<String> {
    sqlx::query_scalar!("SELECT slug FROM teams WHERE id = $1", team_id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| Error::not_found("team"))
}

/// POSTs a webhook body: whether the receiver took it, its status code, and what went wrong.
async fn post(
    egress: &Egress,
    url: &str,
    hint: &str,
    delivery: i64,
    body: &serde_json::Value,
) -> Result<(bool, Option<u16>, Option<String>)> {
    let client = egress
        .client(std::time::Duration::from_secs(10))
        .map_err(|e| internal(&e))?;
    // The job's id names this delivery across retries: a receiver that got it before (Demarc
    // stopped between sending and recording) recognises the repeat and ignores it.
    let outcome = client
        .post(url)
        .header("X-Demarc-Delivery", delivery.to_string())
        .json(body)
        .send()
        .await;
    Ok(match outcome {
        Ok(resp) if resp.status().is_success() => (true, Some(resp.status().as_u16()), None),
        Ok(resp) => (
            false,
            Some(resp.status().as_u16()),
            Some(format!("the receiver answered {}", resp.status())),
        ),
        // Never log or store the URL itself: it may carry a secret.
        Err(e) => (
            false,
            None,
            Some(format!(
                "cannot reach {}: {}",
                hint,
                if let Some(refused) = crate::egress::refused_in(&e) {
                    refused.to_string()
                } else if e.is_timeout() {
                    "timed out".to_owned()
                } else if e.is_connect() {
                    "connection failed".to_owned()
                } else {
                    "request failed".to_owned()
                }
            )),
        ),
    })
}

/// Adds a webhook to a team (members and platform staff).
pub async fn add_webhook(
    pool: &PgPool,
    caller: &Caller,
    secrets: &SecretBox,
    egress: &Egress,
    team_id: Uuid,
    input: WebhookInput,
) -> Result<TeamWebhook> {
    let slug = team_slug(pool, team_id).await?;
    caller
        .actor
        .authorize(Action::WorkOnGoLive { team: &slug })?;
    let mut problems = crate::validate::Problems::default();
    let format = match input.format.trim() {
        "" | "json" => "json",
        "slack" => "slack",
        _ => {
            problems.add("format", "Choose json or slack.");
            "json"
        }
    };
    let url = input.url.trim();
    let host = match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => {
            match egress.refusal(&u) {
                Some(refusal) => {
                    problems.add("url", refusal);
                    None
                }
                None => u.host_str().map(str::to_owned),
            }
        }
        _ => {
            problems.add("url", "Give the webhook's http(s) address.");
            None
        }
    };
    problems.finish()?;
    let hint = host.unwrap_or_default();
    let id = Uuid::new_v4();
    let sealed = secrets.seal(&seal_context(id), url.as_bytes())?;
    let mut tx = pool.begin().await?;
    let hook = sqlx::query_as!(
        TeamWebhook,
        "INSERT INTO team_webhooks (id, team_id, format, url_sealed, hint, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, team_id, format, hint, created_by, created_at",
        id,
        team_id,
        format,
        sealed,
        hint,
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "team_webhook.add",
        "team_webhook",
        &id.to_string(),
        None::<&()>,
        Some(&hook),
    )
    .await?;
    tx.commit().await?;
    Ok(hook)
}

/// Removes a webhook.
pub async fn remove_webhook(
    pool: &PgPool,
    caller: &Caller,
    webhook_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let before = sqlx::query_as!(
        TeamWebhook,
        "SELECT id, team_id, format, hint, created_by, created_at FROM team_webhooks
         WHERE id = $1 AND removed_at IS NULL",
        webhook_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::not_found("webhook"))?;
    let slug = team_slug(pool, before.team_id).await?;
    caller
        .actor
        .authorize(Action::WorkOnGoLive { team: &slug })?;
    let mut tx = pool.begin().await?;
    let removed = sqlx::query!(
        "UPDATE team_webhooks SET removed_at = $2 WHERE id = $1 AND removed_at IS NULL",
        webhook_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    if removed.rows_affected() == 0 {
        return Err(Error::not_found("webhook"));
    }
    audit::record(
        &mut tx,
        caller,
        "team_webhook.remove",
        "team_webhook",
        &webhook_id.to_string(),
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
