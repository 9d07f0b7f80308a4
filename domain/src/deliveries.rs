//! A team's delivery log: every notification queued for its webhooks and e-mail addresses
//! (drift, maintenance notices, end-of-life warnings), whether it arrived, and each attempt with
//! the receiver's answer. Read from the job queue and `delivery_attempts`, which the senders
//! write; nothing here changes them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::Action;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result};
use crate::model::{Delivery, DeliveryAttempt, DeliveryQuery, DeliveryState, Page};

/// The newest deliveries to a team's channels (removed channels included), newest first.
pub async fn of_team(
    pool: &PgPool,
    caller: &Caller,
    team_id: Uuid,
    query: &DeliveryQuery,
) -> Result<Page<Delivery>> {
    caller.actor.authorize(Action::Read)?;
    let (limit, offset) = query.limit_offset();
    let mut tx = pool.begin().await?;
    sqlx::query_scalar!("SELECT id FROM teams WHERE id = $1", team_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::not_found("team"))?;
    // The job kinds are written out (they are JOB_WEBHOOK and JOB_EMAIL, as the tests of the
    // log prove): only a literal lets PostgreSQL use the partial indexes on the channel ids in
    // a cached generic plan.
    let total = sqlx::query_scalar!(
        r#"SELECT (SELECT count(*) FROM team_webhooks w
                   JOIN jobs j ON j.kind = 'deliver_webhook' AND j.payload->>'webhook_id' = w.id::text
                   WHERE w.team_id = $1)
                + (SELECT count(*) FROM team_emails e
                   JOIN jobs j ON j.kind = 'deliver_email' AND j.payload->>'email_id' = e.id::text
                   WHERE e.team_id = $1) AS "n!""#,
        team_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", channel AS "channel!", target AS "target!", payload AS "payload!",
                  attempts AS "attempts!", run_at AS "run_at!", done_at, failed_at,
                  created_at AS "created_at!"
           FROM (SELECT j.id, 'webhook' AS channel, w.hint AS target, j.payload, j.attempts,
                        j.run_at, j.done_at, j.failed_at, j.created_at
                 FROM team_webhooks w
                 JOIN jobs j ON j.kind = 'deliver_webhook' AND j.payload->>'webhook_id' = w.id::text
                 WHERE w.team_id = $1
                 UNION ALL
                 SELECT j.id, 'email', e.hint, j.payload, j.attempts, j.run_at, j.done_at,
                        j.failed_at, j.created_at
                 FROM team_emails e
                 JOIN jobs j ON j.kind = 'deliver_email' AND j.payload->>'email_id' = e.id::text
                 WHERE e.team_id = $1) d
           ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"#,
        team_id,
        limit,
        offset,
    )
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut attempts: HashMap<i64, Vec<DeliveryAttempt>> = HashMap::new();
    for a in sqlx::query!(
        "SELECT job_id, attempt, at, ok, status_code, error FROM delivery_attempts
         WHERE job_id = ANY($1) ORDER BY job_id, attempt, id",
        &ids
    )
    .fetch_all(&mut *tx)
    .await?
    {
        attempts.entry(a.job_id).or_default().push(DeliveryAttempt {
            attempt: a.attempt,
            at: a.at,
            ok: a.ok,
            status_code: a.status_code,
            error: a.error,
        });
    }
    let items = rows
        .into_iter()
        .map(|r| {
            let attempts = attempts.remove(&r.id).unwrap_or_default();
            let state = state_of(r.done_at, r.failed_at, r.attempts, &attempts);
            Delivery {
                id: r.id,
                about: about(&r.channel, &r.payload),
                channel: r.channel,
                target: r.target,
                next_attempt_at: matches!(state, DeliveryState::Pending | DeliveryState::Retrying)
                    .then_some(r.run_at),
                state,
                queued_at: r.created_at,
                attempts,
            }
        })
        .collect();
    Ok(Page {
        items,
        page: query.page.max(1),
        per_page: limit as u32,
        total,
    })
}

/// Where a delivery stands, from its job and its recorded attempts. A job that ended without a
/// successful attempt was dropped (its channel was removed before its turn).
fn state_of(
    done_at: Option<DateTime<Utc>>,
    failed_at: Option<DateTime<Utc>>,
    tries: i32,
    attempts: &[DeliveryAttempt],
) -> DeliveryState {
    if failed_at.is_some() {
        DeliveryState::Failed
    } else if done_at.is_some() {
        if attempts.iter().any(|a| a.ok) {
            DeliveryState::Delivered
        } else {
            DeliveryState::Dropped
        }
    } else if tries > 0 || !attempts.is_empty() {
        DeliveryState::Retrying
    } else {
        DeliveryState::Pending
    }
}

/// One line on what a notification said: an e-mail's subject; a JSON webhook's event and what
/// it is about; a Slack message's first line without its markup.
fn about(channel: &str, payload: &serde_json::Value) -> String {
    let text = if channel == "email" {
        payload["subject"].as_str().unwrap_or_default().to_owned()
    } else {
        let body = &payload["body"];
        if let Some(event) = body["event"].as_str() {
            let environment = match (body["platform"].as_str(), body["environment"].as_str()) {
                (Some(p), Some(e)) => Some(format!("{p} / {e}")),
                _ => None,
            };
            let subject = body["maintenance"]["title"]
                .as_str()
                .or_else(|| body["drift"]["application"].as_str())
                .or_else(|| body["expiring"]["application"].as_str())
                .map(str::to_owned)
                .or(environment);
            match subject {
                Some(s) => format!("{event}: {s}"),
                None => event.to_owned(),
            }
        } else {
            let line = body["text"].as_str().unwrap_or_default().lines().next();
            let line = line.unwrap_or_default().replace('*', "");
            // Drop a leading Slack emoji code (":warning: ").
            match line.strip_prefix(':').and_then(|l| l.split_once(": ")) {
                Some((code, rest)) if !code.contains(' ') => rest.to_owned(),
                _ => line,
            }
        }
    };
    let mut text = text.trim().to_owned();
    if text.chars().count() > 160 {
        text = text.chars().take(159).collect::<String>() + "…";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attempt(ok: bool) -> DeliveryAttempt {
        DeliveryAttempt {
            attempt: 1,
            at: Utc::now(),
            ok,
            status_code: None,
            error: None,
        }
    }

    #[test]
    fn the_job_kinds_written_into_the_log_s_sql_are_the_senders() {
        let sql = include_str!("deliveries.rs");
        for kind in [
            crate::golive::notify::JOB_WEBHOOK,
            crate::calendar::notices::JOB_EMAIL,
        ] {
            assert_eq!(
                sql.matches(&format!("j.kind = '{kind}'")).count(),
                2,
                "{kind}"
            );
        }
    }

    #[test]
    fn a_delivery_is_pending_retrying_delivered_failed_or_dropped() {
        let now = Some(Utc::now());
        assert_eq!(state_of(None, None, 0, &[]), DeliveryState::Pending);
        assert_eq!(
            state_of(None, None, 1, &[attempt(false)]),
            DeliveryState::Retrying
        );
        assert_eq!(
            state_of(now, None, 2, &[attempt(false), attempt(true)]),
            DeliveryState::Delivered
        );
        assert_eq!(
            state_of(None, now, 5, &[attempt(false)]),
            DeliveryState::Failed
        );
        assert_eq!(state_of(now, None, 1, &[]), DeliveryState::Dropped);
    }

    #[test]
    fn what_a_notification_said_fits_on_one_line() {
        let drift = json!({"body": {"event": "golive.drift", "drift": {"application": "shop"}}});
        assert_eq!(about("webhook", &drift), "golive.drift: shop");
        let expiring = json!({"body": {"event": "golive.waiver_expiring", "expiring": {"application": "shop"}}});
        assert_eq!(about("webhook", &expiring), "golive.waiver_expiring: shop");
        let notice = json!({"body": {"event": "maintenance.announced",
                                     "maintenance": {"title": "Kubernetes 1.36"}}});
        assert_eq!(
            about("webhook", &notice),
            "maintenance.announced: Kubernetes 1.36"
        );
        let eol = json!({"body": {"event": "kubernetes.end_of_life", "platform": "core",
                                  "environment": "production"}});
        assert_eq!(
            about("webhook", &eol),
            "kubernetes.end_of_life: core / production"
        );
        let slack = json!({"body": {"text": ":warning: *shop* on core / production no longer passes 1 go-live check:\n• *Replicas*: ..."}});
        assert_eq!(
            about("webhook", &slack),
            "shop on core / production no longer passes 1 go-live check:"
        );
        let mail = json!({"subject": "[core / staging] Announced: Kubernetes 1.36"});
        assert_eq!(
            about("email", &mail),
            "[core / staging] Announced: Kubernetes 1.36"
        );
        let long = json!({"subject": "x".repeat(300)});
        assert_eq!(about("email", &long).chars().count(), 160);
    }
}
