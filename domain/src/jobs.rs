//! The job queue every replica works from. A job is enqueued inside the transaction of the change
//! that causes it, so it exists exactly when the change does. Workers claim due jobs with
//! `FOR UPDATE SKIP LOCKED` and hold them under a lease: two replicas never run the same job at the
//! same time, and a job whose worker died is claimed again once its lease runs out. Jobs are
//! written to be idempotent; failures are retried with exponential backoff up to `max_attempts`.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

use crate::db::PgPool;
use crate::error::{Result, internal};

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    /// 1 for the first run.
    pub attempt: i32,
    pub max_attempts: i32,
}

/// Attempts of a job before it is given up: with [`backoff`], about 14 minutes of retries.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;

/// Attempts of a notice to a team (a webhook call, an e-mail) and of a maintenance reminder.
/// After the fifth the backoff has reached its one-hour cap, so 30 attempts keep trying for
/// about 25 hours: a receiver or mail server that is down for an evening or a night still gets
/// the announcement. A reminder that runs that late stays silent by itself
/// (`calendar::notices`), and a receiver recognises a repeat by its delivery id.
pub const NOTICE_MAX_ATTEMPTS: i32 = 30;

/// How many attempts a job of `kind` gets.
pub fn max_attempts(kind: &str) -> i32 {
    match kind {
        crate::golive::notify::JOB_WEBHOOK
        | crate::calendar::notices::JOB_EMAIL
        | crate::calendar::notices::JOB_REMINDER => NOTICE_MAX_ATTEMPTS,
        _ => DEFAULT_MAX_ATTEMPTS,
    }
}

/// Adds a job, with the attempts its kind gets ([`max_attempts`]). With a `dedupe_key`, a
/// second job with the same key is silently not added (the key stays taken after the job ran,
/// so use keys that name a time slot for repeated work). Returns the id of the new job, or None
/// when the key was taken.
pub async fn enqueue<P: Serialize>(
    conn: &mut PgConnection,
    kind: &str,
    payload: &P,
    run_at: DateTime<Utc>,
    dedupe_key: Option<&str>,
) -> Result<Option<i64>> {
    let payload = serde_json::to_value(payload).map_err(|e| internal(&e))?;
    let id = sqlx::query_scalar!(
        "INSERT INTO jobs (kind, payload, run_at, dedupe_key, max_attempts)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
         RETURNING id",
        kind,
        payload,
        run_at,
        dedupe_key,
        max_attempts(kind),
    )
    .fetch_optional(&mut *conn)
    .await?;
    if id.is_some() {
        sqlx::query!("SELECT pg_notify('demarc_jobs', $1)", kind)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

/// How long a claimed job is leased before another worker may take it over.
pub const LEASE: Duration = Duration::minutes(10);

/// Claims the oldest due job, leasing it to `worker` for `lease`.
pub async fn claim(
    pool: &PgPool,
    worker: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<Job>> {
    let until = now + lease;
    Ok(sqlx::query_as!(
        Job,
        "UPDATE jobs SET attempts = attempts + 1, locked_by = $1, locked_until = $3
         WHERE id = (
             SELECT id FROM jobs
             WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $2
               AND (locked_until IS NULL OR locked_until < $2)
             ORDER BY run_at, id
             FOR UPDATE SKIP LOCKED
             LIMIT 1)
         RETURNING id, kind, payload, attempts AS attempt, max_attempts",
        worker,
        now,
        until,
    )
    .fetch_optional(pool)
    .await?)
}

/// Claims the jobs among `candidates` that are still due and free, for work that is cheaper
/// done together (verifications of one cluster share one read). Same lease rules as [`claim`]:
/// a job another worker holds is skipped, never waited for.
pub async fn claim_these(
    pool: &PgPool,
    worker: &str,
    candidates: &[i64],
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Vec<Job>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let until = now + lease;
    Ok(sqlx::query_as!(
        Job,
        "UPDATE jobs SET attempts = attempts + 1, locked_by = $1, locked_until = $3
         WHERE id IN (
             SELECT id FROM jobs
             WHERE id = ANY($4) AND done_at IS NULL AND failed_at IS NULL AND run_at <= $2
               AND (locked_until IS NULL OR locked_until < $2)
             FOR UPDATE SKIP LOCKED)
         RETURNING id, kind, payload, attempts AS attempt, max_attempts",
        worker,
        now,
        until,
        candidates,
    )
    .fetch_all(pool)
    .await?)
}

/// Extends the leases of every job `worker` holds, while it is still working on them: a job that
/// runs longer than [`LEASE`] is not taken over by another replica. Returns how many were
/// extended.
pub async fn extend_leases(
    pool: &PgPool,
    worker: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<u64> {
    Ok(sqlx::query!(
        "UPDATE jobs SET locked_until = $2
         WHERE locked_by = $1 AND done_at IS NULL AND failed_at IS NULL",
        worker,
        now + lease,
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Gives up the leases `worker` still holds (a replica shutting down with a job unfinished):
/// another replica may claim those jobs at once instead of after the lease. The attempt counts.
pub async fn release_leases(pool: &PgPool, worker: &str, now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query!(
        "UPDATE jobs SET locked_by = NULL, locked_until = NULL, run_at = least(run_at, $2),
                last_error = 'the replica running it shut down'
         WHERE locked_by = $1 AND done_at IS NULL AND failed_at IS NULL",
        worker,
        now,
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Marks a job done (only by the worker that holds it).
pub async fn complete(pool: &PgPool, job: &Job, worker: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query!(
        "UPDATE jobs SET done_at = $3, locked_by = NULL, locked_until = NULL, last_error = NULL
         WHERE id = $1 AND locked_by = $2",
        job.id,
        worker,
        now,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The wait before attempt `attempt + 1`: 10 s, 40 s, 160 s, ... capped at one hour.
pub fn backoff(attempt: i32) -> Duration {
    let exp = attempt.clamp(1, 10) as u32 - 1;
    Duration::seconds((10i64 * 4i64.pow(exp)).min(3600))
}

/// Records a failed attempt: retried after [`backoff`], or given up after `max_attempts`.
/// Returns true when the job will run again.
pub async fn fail(
    pool: &PgPool,
    job: &Job,
    worker: &str,
    now: DateTime<Utc>,
    error: &str,
) -> Result<bool> {
    let retry = job.attempt < job.max_attempts;
    let run_at = now + backoff(job.attempt);
    sqlx::query!(
        "UPDATE jobs SET locked_by = NULL, locked_until = NULL, last_error = $3,
                run_at = CASE WHEN $4 THEN $5::timestamptz ELSE run_at END,
                failed_at = CASE WHEN $4 THEN NULL ELSE $6::timestamptz END
         WHERE id = $1 AND locked_by = $2",
        job.id,
        worker,
        error,
        retry,
        run_at,
        now,
    )
    .execute(pool)
    .await?;
    Ok(retry)
}

/// How a job ended, once recorded by [`settle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Done,
    /// Failed; it runs again after its backoff.
    Retried,
    /// Failed for the last time: the caller records why the work will not happen.
    GaveUp,
}

/// Records the outcome of a job its worker ran: done, or failed and retried or given up. A job
/// whose outcome cannot be recorded is claimed again when its lease runs out.
pub async fn settle(
    pool: &PgPool,
    job: &Job,
    worker: &str,
    now: DateTime<Utc>,
    outcome: &std::result::Result<(), crate::error::Error>,
) -> Settled {
    match outcome {
        Ok(()) => {
            if let Err(e) = complete(pool, job, worker, now).await {
                tracing::warn!(job = job.id, error = %e, "cannot mark a job done");
            }
            Settled::Done
        }
        Err(error) => {
            let retry = fail(pool, job, worker, now, &error.to_string()).await;
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempt, retry = ?retry.as_ref().ok(), %error, "job failed");
            match retry {
                Ok(false) => Settled::GaveUp,
                _ => Settled::Retried,
            }
        }
    }
}

/// Where one kind of job stands in the queue, for the metrics endpoint.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueStats {
    pub kind: String,
    /// Waiting for a worker (due and not leased).
    pub due: i64,
    /// Leased by a worker right now.
    pub running: i64,
    /// Waiting for a later attempt after a failure.
    pub retrying: i64,
    /// Given up on after the last attempt.
    pub failed: i64,
}

/// How long finished bookkeeping jobs are kept before [`prune`] removes them.
pub const RETENTION: Duration = Duration::days(30);

/// The kinds [`prune`] removes once finished: the queue's own bookkeeping, whose outcome is
/// recorded elsewhere (a verification in its run, a reminder in the deliveries it fanned out
/// into). Their dedupe keys name time slots that have passed, so freeing them repeats nothing.
/// Deliveries (webhooks, e-mails) are the teams' delivery log and stay.
const PRUNED_KINDS: [&str; 3] = [
    crate::golive::runs::JOB_VERIFY,
    crate::golive::runs::JOB_VERIFY_ENVIRONMENT,
    crate::calendar::notices::JOB_REMINDER,
];

/// Removes the bookkeeping jobs ([`PRUNED_KINDS`]) that finished, done or given up, more than
/// [`RETENTION`] before `now`, a batch at a time so no long lock holds the queue; a job that
/// has recorded delivery attempts is never removed. Scheduled verifications add a job per
/// environment and slot, so without this the table grows by thousands of rows a day. Returns
/// how many went.
pub async fn prune(pool: &PgPool, now: DateTime<Utc>) -> Result<u64> {
    const BATCH: i64 = 5_000;
    let before = now - RETENTION;
    let kinds = PRUNED_KINDS.map(str::to_owned);
    let mut removed = 0;
    loop {
        let gone = sqlx::query!(
            "DELETE FROM jobs WHERE id IN (
                 SELECT j.id FROM jobs j
                 WHERE j.kind = ANY($1) AND (j.done_at < $2 OR j.failed_at < $2)
                   AND NOT EXISTS (SELECT 1 FROM delivery_attempts d WHERE d.job_id = j.id)
                 LIMIT $3)",
            &kinds[..],
            before,
            BATCH,
        )
        .execute(pool)
        .await?
        .rows_affected();
        removed += gone;
        if gone < BATCH as u64 {
            return Ok(removed);
        }
    }
}

/// The queue per kind of job that has a job not done (finished jobs stay as history until
/// [`prune`] and are not read: the partial index `jobs_not_done` keeps this cheap).
pub async fn stats(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<QueueStats>> {
    Ok(sqlx::query_as!(
        QueueStats,
        r#"SELECT kind,
             count(*) FILTER (WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $1
                              AND (locked_until IS NULL OR locked_until < $1)) AS "due!",
             count(*) FILTER (WHERE done_at IS NULL AND failed_at IS NULL AND locked_until >= $1) AS "running!",
             count(*) FILTER (WHERE done_at IS NULL AND failed_at IS NULL AND run_at > $1
                              AND attempts > 0 AND (locked_until IS NULL OR locked_until < $1)) AS "retrying!",
             count(*) FILTER (WHERE failed_at IS NOT NULL) AS "failed!"
           FROM jobs WHERE done_at IS NULL GROUP BY kind ORDER BY kind"#,
        now
    )
    .fetch_all(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(40));
        assert_eq!(backoff(3), Duration::seconds(160));
        assert_eq!(backoff(9), Duration::seconds(3600));
    }

    /// How long a job of `attempts` attempts keeps being retried after its first failure.
    fn retried_for(attempts: i32) -> Duration {
        (1..attempts).map(backoff).sum()
    }

    #[test]
    fn notices_are_retried_for_a_day_and_other_jobs_for_minutes() {
        for kind in [
            crate::golive::notify::JOB_WEBHOOK,
            crate::calendar::notices::JOB_EMAIL,
            crate::calendar::notices::JOB_REMINDER,
        ] {
            assert_eq!(max_attempts(kind), NOTICE_MAX_ATTEMPTS, "{kind}");
        }
        assert!(retried_for(NOTICE_MAX_ATTEMPTS) >= Duration::hours(24));
        assert!(retried_for(NOTICE_MAX_ATTEMPTS) < Duration::hours(26));
        // Verifications keep theirs: a run the queue gives up on is reported as failed.
        assert_eq!(
            max_attempts(crate::golive::runs::JOB_VERIFY),
            DEFAULT_MAX_ATTEMPTS
        );
        assert!(retried_for(DEFAULT_MAX_ATTEMPTS) < Duration::hours(1));
    }
}
