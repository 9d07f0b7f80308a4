//! Push notices about maintenances, since calendar clients refresh feeds only every few hours:
//! announcements, changes, cancellations, start and end, and reminders before the start
//! (by default 7 days, 72 hours and 1 hour; configurable per platform).
//!
//! Who hears: every team that runs an application in the maintenance's environment, through its
//! webhooks (a JSON body, or Slack-compatible text) and its e-mail recipients. Every notice is one
//! queue job per channel, enqueued in the transaction of the change that causes it, so it exists
//! exactly when the change does; the queue runs each job once across replicas, retries failures
//! and records every attempt in `delivery_attempts`.
//!
//! Reminders are queue jobs too, due at their time. When one comes due it re-reads the
//! maintenance: it only speaks when the maintenance is still announced for the same start (a moved
//! maintenance has new reminders with new keys) and its lead time is still one the platform
//! wants (changed settings re-plan the reminders of announced maintenances). The notices it fans
//! out carry keys derived from the reminder job, so a reminder that runs again after a crash
//! sends nothing twice.

use askama::Template;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{Category, Maintenance, MaintenanceState, TeamEmail, TeamEmailForm};
use crate::audit;
use crate::auth::Action;
use crate::crypto::SecretBox;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result, internal};
use crate::golive::notify::enqueue_webhook;
use crate::jobs;

pub const JOB_REMINDER: &str = "maintenance_reminder";
pub const JOB_EMAIL: &str = "deliver_email";

/// What happened to a maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Event {
    Announced,
    Changed,
    Cancelled,
    Started,
    Completed,
    RolledBack,
    Reminder { minutes: i32 },
}

impl Event {
    /// The `event` field of the JSON body.
    pub fn name(self) -> &'static str {
        match self {
            Event::Announced => "maintenance.announced",
            Event::Changed => "maintenance.changed",
            Event::Cancelled => "maintenance.cancelled",
            Event::Started => "maintenance.started",
            Event::Completed => "maintenance.completed",
            Event::RolledBack => "maintenance.rolled_back",
            Event::Reminder { .. } => "maintenance.reminder",
        }
    }

    /// The headline, as a sentence start: "Announced", "Reminder: starts in 3 days".
    pub fn headline(self) -> String {
        match self {
            Event::Announced => "Announced".into(),
            Event::Changed => "Changed".into(),
            Event::Cancelled => "Cancelled".into(),
            Event::Started => "Started".into(),
            Event::Completed => "Completed".into(),
            Event::RolledBack => "Rolled back".into(),
            Event::Reminder { minutes } => format!("Reminder: starts in {}", lead_time(minutes)),
        }
    }
}

/// "7 days", "72 hours", "1 hour", "30 minutes".
pub fn lead_time(minutes: i32) -> String {
    let plural = |n: i32, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    if minutes >= 1440 && minutes % 1440 == 0 && minutes != 4320 {
        plural(minutes / 1440, "day")
    } else if minutes >= 60 && minutes % 60 == 0 {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}

/// What the JSON body carries about a maintenance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub id: Uuid,
    pub title: String,
    pub category: Category,
    pub state: MaintenanceState,
    pub platform: String,
    pub environment: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub kubernetes_from: String,
    pub kubernetes_to: String,
    pub node_image: String,
    pub components: String,
    pub description: String,
    pub expected_impact: String,
    pub contingency_plan: String,
    pub lead: String,
    /// Why an emergency could not wait (empty otherwise).
    pub justification: String,
    /// Why it was cancelled (empty unless it was).
    pub cancel_reason: String,
}

impl From<&Maintenance> for Summary {
    fn from(m: &Maintenance) -> Self {
        Summary {
            id: m.id,
            title: m.title.clone(),
            category: m.category,
            state: m.state,
            platform: m.platform_slug.clone(),
            environment: m.environment_slug.clone(),
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            kubernetes_from: m.kubernetes_from.clone(),
            kubernetes_to: m.kubernetes_to.clone(),
            node_image: m.node_image.clone(),
            components: m.components.clone(),
            description: m.description.clone(),
            expected_impact: m.expected_impact.clone(),
            contingency_plan: m.contingency_plan.clone(),
            lead: m.lead.clone(),
            justification: m.justification.clone(),
            cancel_reason: m.cancel_reason.clone(),
        }
    }
}

fn when(m: &Maintenance) -> String {
    format!(
        "{} to {} UTC",
        m.starts_at.format("%a %-d %b %Y %H:%M"),
        m.ends_at.format("%a %-d %b %H:%M")
    )
}

/// One notice, rendered for every kind of channel.
struct Notice {
    /// The body of a JSON webhook.
    json: serde_json::Value,
    /// The text of a Slack-compatible webhook.
    slack: String,
    subject: String,
    /// The plain-text e-mail.
    text: String,
    /// When the notice stops being true (a reminder, once the window opened): a delivery
    /// retried past it is dropped, not sent late.
    stale_after: Option<DateTime<Utc>>,
}

fn maintenance_notice(m: &Maintenance, event: Event) -> Result<Notice> {
    let icon = match (event, m.category) {
        (Event::Cancelled, _) => ":no_entry_sign:",
        (_, Category::Emergency) => ":rotating_light:",
        (_, Category::Major) => ":warning:",
        _ => ":wrench:",
    };
    let headline = event.headline();
    let mut slack = format!(
        "{icon} *{headline}*: {} ({}) on {} / {}\n{}",
        m.title,
        m.category.label(),
        m.platform_slug,
        m.environment_slug,
        when(m)
    );
    if !m.expected_impact.is_empty() {
        slack.push_str(&format!("\nExpected impact: {}", m.expected_impact));
    }
    if event == Event::Cancelled && !m.cancel_reason.is_empty() {
        slack.push_str(&format!("\nWhy: {}", m.cancel_reason));
    }
    Ok(Notice {
        json: serde_json::json!({
            "event": event.name(),
            "reminder_minutes": match event { Event::Reminder { minutes } => Some(minutes), _ => None },
            "maintenance": Summary::from(m),
        }),
        slack,
        subject: format!(
            "[{} / {}] {headline}: {}",
            m.platform_slug, m.environment_slug, m.title
        ),
        text: NoticeMail {
            headline,
            m,
            when: when(m),
        }
        .render()
        .map_err(|e| internal(&e))?,
        stale_after: matches!(event, Event::Reminder { .. }).then_some(m.starts_at),
    })
}

#[derive(Template)]
#[template(path = "maintenance_notice.txt")]
struct NoticeMail<'a> {
    headline: String,
    m: &'a Maintenance,
    when: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct EmailJob {
    email_id: Uuid,
    subject: String,
    body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stale_after: Option<DateTime<Utc>>,
}

/// Queues a notice to every channel of every team that runs an application in the
/// maintenance's environment (inside the caller's transaction). With `dedupe`, each channel's job
/// gets the key `<dedupe>:<channel>`, so repeating the call adds nothing.
pub(crate) async fn maintenance_event(
    conn: &mut PgConnection,
    m: &Maintenance,
    event: Event,
    now: DateTime<Utc>,
) -> Result<u32> {
    fan_out(conn, m, event, now, None).await
}

async fn fan_out(
    conn: &mut PgConnection,
    m: &Maintenance,
    event: Event,
    now: DateTime<Utc>,
    dedupe: Option<&str>,
) -> Result<u32> {
    let notice = maintenance_notice(m, event)?;
    to_environment_teams(conn, m.environment_id, &notice, now, dedupe).await
}

/// Queues a notice to every webhook and e-mail recipient of the teams that run applications in
/// the environment. With `dedupe`, each channel's job gets the key `<dedupe>:<channel>`, so
/// repeating the call adds nothing.
async fn to_environment_teams(
    conn: &mut PgConnection,
    environment_id: Uuid,
    notice: &Notice,
    now: DateTime<Utc>,
    dedupe: Option<&str>,
) -> Result<u32> {
    let hooks = sqlx::query!(
        "SELECT w.id, w.format FROM team_webhooks w
         WHERE w.removed_at IS NULL AND w.team_id IN (SELECT team_id FROM environment_teams($1))",
        environment_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let emails = sqlx::query_scalar!(
        "SELECT id FROM team_emails
         WHERE removed_at IS NULL AND team_id IN (SELECT team_id FROM environment_teams($1))",
        environment_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut n = 0;
    for hook in hooks {
        let key = dedupe.map(|d| format!("{d}:webhook:{}", hook.id));
        let body = if hook.format == "slack" {
            serde_json::json!({ "text": notice.slack })
        } else {
            notice.json.clone()
        };
        enqueue_webhook(conn, hook.id, body, now, notice.stale_after, key.as_deref()).await?;
        n += 1;
    }
    for id in emails {
        let key = dedupe.map(|d| format!("{d}:email:{id}"));
        let job = EmailJob {
            email_id: id,
            subject: notice.subject.clone(),
            body: notice.text.clone(),
            stale_after: notice.stale_after,
        };
        jobs::enqueue(conn, JOB_EMAIL, &job, now, key.as_deref()).await?;
        n += 1;
    }
    Ok(n)
}

#[derive(Template)]
#[template(path = "end_of_life_notice.txt")]
struct EndOfLifeMail<'a> {
    platform: &'a str,
    environment: &'a str,
    version: &'a str,
    message: &'a str,
}

/// Warns the teams of every environment whose Kubernetes minor is within 90, 60 or 30 days of
/// its end of life, or past it: once per environment, minor and threshold (the queue's dedupe
/// keys remember what was sent, across replicas and restarts). The scheduler calls it.
pub async fn warn_end_of_life(pool: &PgPool, now: DateTime<Utc>) -> Result<u32> {
    let rows = sqlx::query!(
        r#"SELECT e.id, e.slug, p.slug AS platform_slug, c.last_server_version AS "version!"
           FROM cluster_connections c
           JOIN environments e ON e.id = c.environment_id
           JOIN platforms p ON p.id = e.platform_id
           WHERE c.last_server_version IS NOT NULL AND e.archived_at IS NULL
             AND p.archived_at IS NULL"#
    )
    .fetch_all(pool)
    .await?;
    let mut n = 0;
    for r in rows {
        let status = super::eol::status(&r.version, now.date_naive());
        let (Some((major, minor)), Some(end)) = (status.minor, status.end_of_life) else {
            continue;
        };
        let level = match status.level {
            super::eol::EolLevel::Within90 => "within_90",
            super::eol::EolLevel::Within60 => "within_60",
            super::eol::EolLevel::Within30 => "within_30",
            super::eol::EolLevel::Expired => "expired",
            _ => continue,
        };
        let notice = Notice {
            json: serde_json::json!({
                "event": "kubernetes.end_of_life",
                "platform": r.platform_slug,
                "environment": r.slug,
                "version": r.version,
                "minor": format!("{major}.{minor}"),
                "end_of_life": end,
                "days_left": status.days_left,
                "level": level,
                "message": status.message,
            }),
            slack: format!(
                ":hourglass: *{} / {}*: {}",
                r.platform_slug, r.slug, status.message
            ),
            subject: format!("[{} / {}] {}", r.platform_slug, r.slug, status.message),
            text: EndOfLifeMail {
                platform: &r.platform_slug,
                environment: &r.slug,
                version: &r.version,
                message: &status.message,
            }
            .render()
            .map_err(|e| internal(&e))?,
            stale_after: None,
        };
        let key = format!("eol:{}:{major}.{minor}:{level}", r.id);
        let mut tx = pool.begin().await?;
        n += to_environment_teams(&mut tx, r.id, &notice, now, Some(&key)).await?;
        tx.commit().await?;
    }
    Ok(n)
}

#[derive(Debug, Serialize, Deserialize)]
struct ReminderJob {
    maintenance_id: Uuid,
    starts_at: DateTime<Utc>,
    minutes: i32,
}

/// Queues the platform's reminders for an announced maintenance (those still in the future).
pub(crate) async fn schedule_reminders(
    conn: &mut PgConnection,
    m: &Maintenance,
    now: DateTime<Utc>,
) -> Result<u32> {
    let settings = super::plans::load_settings(conn, m.platform_id).await?;
    let mut n = 0;
    for minutes in settings.reminder_minutes {
        let run_at = m.starts_at - Duration::minutes(i64::from(minutes));
        if run_at <= now {
            continue;
        }
        let key = format!("reminder:{}:{}:{}", m.id, m.starts_at.timestamp(), minutes);
        let job = ReminderJob {
            maintenance_id: m.id,
            starts_at: m.starts_at,
            minutes,
        };
        if jobs::enqueue(conn, JOB_REMINDER, &job, run_at, Some(&key))
            .await?
            .is_some()
        {
            n += 1;
        }
    }
    Ok(n)
}

/// Brings the queued reminders of a platform's announced maintenances in line with its reminder
/// settings (after they changed): reminders not sent yet at a lead time no longer wanted are
/// dropped, and those of the new lead times still ahead are queued. Reminders already sent stay
/// sent (their keys are taken, and their times have passed); one a worker holds right now is
/// left to it, and it stays silent when its lead time is no longer wanted ([`remind`]).
pub(crate) async fn replan_reminders(
    conn: &mut PgConnection,
    platform_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let settings = super::plans::load_settings(conn, platform_id).await?;
    let dropped = sqlx::query!(
        "DELETE FROM jobs
         WHERE kind = $1 AND done_at IS NULL AND failed_at IS NULL
           AND (locked_until IS NULL OR locked_until < $4)
           AND NOT ((payload->>'minutes')::int = ANY($3))
           AND (payload->>'maintenance_id')::uuid IN (
               SELECT m.id FROM maintenances m JOIN environments e ON e.id = m.environment_id
               WHERE e.platform_id = $2)",
        JOB_REMINDER,
        platform_id,
        &settings.reminder_minutes,
        now,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let announced = super::maintenances::list_in(
        conn,
        Some(platform_id),
        now,
        now + Duration::days(super::MAX_EXPAND_DAYS),
    )
    .await?;
    let mut queued = 0;
    for m in announced
        .iter()
        .filter(|m| m.state == MaintenanceState::Announced && m.starts_at > now)
    {
        queued += schedule_reminders(conn, m, now).await?;
    }
    tracing::info!(%platform_id, dropped, queued, "reminders re-planned");
    Ok(())
}

/// Whether a reminder `minutes` before `starts_at` that runs at `now` has nothing true left to
/// say: the window has opened (after an outage of the queue, "starts in 1 hour" would arrive
/// when it already started), or a shorter lead time the platform wants (`wanted`) is due too
/// (its reminder says how near the start is; both at once would tell the teams twice, the
/// longer one wrongly).
fn reminder_overtaken(
    minutes: i32,
    wanted: &[i32],
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    now >= starts_at
        || wanted.iter().any(|&shorter| {
            shorter < minutes && starts_at - Duration::minutes(i64::from(shorter)) <= now
        })
}

/// A due reminder: fans out when the maintenance is still announced for the same start, the
/// window has not opened and no shorter reminder is due ([`reminder_overtaken`]).
async fn remind(pool: &PgPool, job: &jobs::Job, now: DateTime<Utc>) -> Result<()> {
    let payload: ReminderJob =
        serde_json::from_value(job.payload.clone()).map_err(|e| internal(&e))?;
    let mut tx = pool.begin().await?;
    let m = match super::maintenances::fetch(&mut tx, payload.maintenance_id, false).await {
        Ok(m) => m,
        Err(Error::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    if m.state != MaintenanceState::Announced || m.starts_at != payload.starts_at {
        return Ok(());
    }
    // The platform may have stopped wanting this lead time since the reminder was queued.
    let settings = super::plans::load_settings(&mut tx, m.platform_id).await?;
    if !settings.reminder_minutes.contains(&payload.minutes)
        || reminder_overtaken(
            payload.minutes,
            &settings.reminder_minutes,
            m.starts_at,
            now,
        )
    {
        return Ok(());
    }
    // A blackout added after the announcement covers the window: the maintenance can neither
    // start nor go ahead during it (only an emergency may), so "starts in 1 hour" would be
    // untrue. Nothing goes to the teams; why is recorded as this reminder's attempt.
    if m.category != Category::Emergency {
        let cal = super::plans::Calendar::load(&mut tx, Some(m.platform_id)).await?;
        if let Some(b) = cal.blackout_over(m.platform_id, m.environment_id, m.starts_at, m.ends_at)
        {
            let why = format!(
                "not sent: the blackout “{}” ({}) covers the window of “{}”, which cannot start during it",
                b.reason,
                super::plans::blackout_days(b),
                m.title
            );
            drop(tx);
            tracing::info!(maintenance = %m.id, "reminder skipped: a blackout covers its window");
            record_attempt(pool, job, "reminder".into(), now, Some(&why)).await?;
            return Ok(());
        }
    }
    let key = format!("notice:{}", job.id);
    fan_out(
        &mut tx,
        &m,
        Event::Reminder {
            minutes: payload.minutes,
        },
        now,
        Some(&key),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Where e-mail goes out: an SMTP server URL (`smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
/// `smtps://...`) and the sender address. The URL may hold a password: it is never logged.
#[derive(Clone, Default)]
pub struct Mailer {
    pub smtp_url: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("smtp", &self.smtp_url.as_ref().map(|_| "<configured>"))
            .field("from", &self.from)
            .finish()
    }
}

fn email_context(id: Uuid) -> String {
    format!("team-email:{id}")
}

async fn record_attempt(
    pool: &PgPool,
    job: &jobs::Job,
    target: String,
    now: DateTime<Utc>,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO delivery_attempts (job_id, target, attempt, at, ok, error)
         VALUES ($1, $2, $3, $4, $5, $6)",
        job.id,
        target,
        job.attempt,
        now,
        error.is_none(),
        error,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Sends one e-mail job over SMTP and records the attempt; an error makes the queue retry.
async fn send_email(
    pool: &PgPool,
    secrets: &SecretBox,
    mailer: &Mailer,
    job: &jobs::Job,
    now: DateTime<Utc>,
) -> Result<()> {
    use lettre::message::header::ContentType;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let payload: EmailJob =
        serde_json::from_value(job.payload.clone()).map_err(|e| internal(&e))?;
    let row = sqlx::query!(
        "SELECT address_sealed, hint, removed_at FROM team_emails WHERE id = $1",
        payload.email_id
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(()) };
    if row.removed_at.is_some() {
        return Ok(());
    }
    let target = format!("email:{}", row.hint);
    if payload.stale_after.is_some_and(|t| now >= t) {
        record_attempt(pool, job, target, now, Some(crate::golive::notify::STALE)).await?;
        return Ok(());
    }
    let Some(url) = &mailer.smtp_url else {
        // Nothing to retry until an operator configures a server: record why and stop.
        record_attempt(
            pool,
            job,
            target,
            now,
            Some("no SMTP server is configured (DEMARC_SMTP_URL)"),
        )
        .await?;
        return Ok(());
    };
    let address =
        String::from_utf8(secrets.open(&email_context(payload.email_id), &row.address_sealed)?)
            .map_err(|e| internal(&e))?;
    let outcome: std::result::Result<(), String> = async {
        let from = mailer
            .from
            .parse()
            .map_err(|_| "the sender address (DEMARC_MAIL_FROM) is not valid".to_owned())?;
        let to = address
            .parse()
            .map_err(|_| "the recipient address is not valid".to_owned())?;
        // One Message-ID per notice, the same on every retry, so mail clients and archives
        // keep a repeat as one message.
        let domain = mailer
            .from
            .rsplit('@')
            .next()
            .unwrap_or("demarc")
            .trim_end_matches('>');
        let message = Message::builder()
            .from(from)
            .to(to)
            .message_id(Some(format!("<notice-{}@{domain}>", job.id)))
            .subject(payload.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(payload.body.clone())
            .map_err(|_| "cannot build the message".to_owned())?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| "the SMTP URL (DEMARC_SMTP_URL) is not valid".to_owned())?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        transport
            .send(message)
            .await
            .map(|_| ())
            // lettre's errors name the server, never the credentials; a server's reply may
            // repeat the recipient, which is sealed at rest and must not reach the log.
            .map_err(|e| {
                format!(
                    "the SMTP server refused or was unreachable: {}",
                    mask_addresses(&e.to_string(), &row.hint)
                )
            })
    }
    .await;
    record_attempt(
        pool,
        job,
        target,
        now,
        outcome.as_ref().err().map(String::as_str),
    )
    .await?;
    outcome.map_err(|message| Error::Conflict { message })
}

/// Runs the calendar's job kinds; None for a kind it does not know.
pub async fn handle_job(
    pool: &PgPool,
    secrets: &SecretBox,
    mailer: &Mailer,
    job: &jobs::Job,
    now: DateTime<Utc>,
) -> Option<Result<()>> {
    match job.kind.as_str() {
        JOB_REMINDER => Some(remind(pool, job, now).await),
        JOB_EMAIL => Some(send_email(pool, secrets, mailer, job, now).await),
        _ => None,
    }
}

async fn team_slug(conn: &mut PgConnection, team_id: Uuid) -> Result<String> {
    crate::teams::slug_of(conn, team_id).await
}

/// A team's e-mail recipients.
pub async fn team_emails(pool: &PgPool, caller: &Caller, team_id: Uuid) -> Result<Vec<TeamEmail>> {
    caller.actor.authorize(Action::Read)?;
    Ok(sqlx::query_as!(
        TeamEmail,
        "SELECT id, team_id, hint, created_by, created_at FROM team_emails
         WHERE team_id = $1 AND removed_at IS NULL ORDER BY created_at",
        team_id
    )
    .fetch_all(pool)
    .await?)
}

/// "a…@example.com": enough to recognise an address without showing it.
/// A server's reply with every word that looks like an e-mail address (in whatever case or
/// brackets the server echoes it) replaced by the recipient's hint.
fn mask_addresses(reply: &str, hint: &str) -> String {
    reply
        .split(' ')
        .map(|word| if word.contains('@') { hint } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

fn hint(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".into(),
    }
}

/// Adds an e-mail recipient to a team (members and platform staff).
pub async fn add_team_email(
    pool: &PgPool,
    caller: &Caller,
    secrets: &SecretBox,
    team_id: Uuid,
    form: TeamEmailForm,
) -> Result<TeamEmail> {
    let mut tx = pool.begin().await?;
    let slug = team_slug(&mut tx, team_id).await?;
    caller
        .actor
        .authorize(Action::WorkOnTeamCalendar { team: &slug })?;
    let address = form.address.trim();
    if address.len() > 254 || address.parse::<lettre::Address>().is_err() {
        return Err(Error::invalid(
            "address",
            "must be an e-mail address such as team@example.com",
        ));
    }
    let id = Uuid::new_v4();
    let sealed = secrets.seal(&email_context(id), address.as_bytes())?;
    let email = sqlx::query_as!(
        TeamEmail,
        "INSERT INTO team_emails (id, team_id, address_sealed, hint, created_by)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, team_id, hint, created_by, created_at",
        id,
        team_id,
        sealed,
        hint(address),
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "team_email.add",
        "team_email",
        &id.to_string(),
        None::<&()>,
        Some(&email),
    )
    .await?;
    tx.commit().await?;
    Ok(email)
}

/// Removes an e-mail recipient.
pub async fn remove_team_email(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let before = sqlx::query_as!(
        TeamEmail,
        "SELECT id, team_id, hint, created_by, created_at FROM team_emails
         WHERE id = $1 AND removed_at IS NULL FOR UPDATE",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("e-mail recipient"))?;
    let slug = team_slug(&mut tx, before.team_id).await?;
    caller
        .actor
        .authorize(Action::WorkOnTeamCalendar { team: &slug })?;
    sqlx::query!(
        "UPDATE team_emails SET removed_at = $2 WHERE id = $1",
        id,
        now
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "team_email.remove",
        "team_email",
        &id.to_string(),
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_times_read_naturally() {
        assert_eq!(lead_time(10080), "7 days");
        assert_eq!(lead_time(4320), "72 hours");
        assert_eq!(lead_time(60), "1 hour");
        assert_eq!(lead_time(1440), "1 day");
        assert_eq!(lead_time(90), "90 minutes");
        assert_eq!(lead_time(1), "1 minute");
    }

    #[test]
    fn a_late_reminder_stays_silent_once_the_window_opened_or_a_shorter_one_is_due() {
        use chrono::TimeZone;
        let starts_at = Utc.with_ymd_and_hms(2027, 1, 12, 19, 0, 0).unwrap();
        let wanted = [10080, 4320, 60];
        let at =
            |m: i32, d: i64| starts_at - Duration::minutes(i64::from(m)) + Duration::minutes(d);
        // On time, or late while no shorter lead time is due: it speaks.
        assert!(!reminder_overtaken(10080, &wanted, starts_at, at(10080, 0)));
        assert!(!reminder_overtaken(10080, &wanted, starts_at, at(4320, -1)));
        assert!(!reminder_overtaken(60, &wanted, starts_at, at(60, 0)));
        assert!(!reminder_overtaken(60, &wanted, starts_at, at(0, -1)));
        // The 72-hour one once the 1-hour one is due (after an outage): only the shorter speaks.
        assert!(reminder_overtaken(4320, &wanted, starts_at, at(60, 0)));
        assert!(reminder_overtaken(10080, &wanted, starts_at, at(4320, 30)));
        // Once the window opened, none.
        for m in wanted {
            assert!(reminder_overtaken(m, &wanted, starts_at, starts_at), "{m}");
            assert!(
                reminder_overtaken(m, &wanted, starts_at, starts_at + Duration::hours(3)),
                "{m}"
            );
        }
        // A lead time the platform no longer wants does not silence a longer one.
        assert!(!reminder_overtaken(4320, &[4320], starts_at, at(60, 0)));
    }

    #[test]
    fn hints_hide_the_address() {
        assert_eq!(hint("ops-team@example.com"), "o…@example.com");
        assert_eq!(hint("nope"), "…");
    }

    #[test]
    fn server_replies_are_logged_without_the_address() {
        let reply =
            "permanent error (550): 5.1.1 <Ops-Team@Example.com>: Recipient address rejected";
        let masked = mask_addresses(reply, "o…@example.com");
        assert!(!masked.to_lowercase().contains("ops-team"), "{masked}");
        assert!(
            masked.contains("o…@example.com") && masked.contains("(550)"),
            "{masked}"
        );
    }
}
