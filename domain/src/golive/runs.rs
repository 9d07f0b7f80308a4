//! Verification runs: a review's automatic items checked against the cluster (through the job
//! queue, so any replica may run it and none runs it twice), an uploaded `kubectl get -o json`
//! List, or a CI pipeline's report. Every run keeps its results with evidence; the review's items
//! take the newest verdicts; after go-live a required item that stops passing is recorded as
//! drift and sent to the owning team's webhooks.

use std::collections::BTreeMap;

use checks::{CheckId, CheckResult, Outcome, Params, SourceInfo};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::model::*;
use super::store::{self, context, head};
use super::{connections, notify};
use crate::audit;
use crate::auth::Action;
use crate::crypto::SecretBox;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result, internal};
use crate::jobs;

/// The job that runs one verification.
pub const JOB_VERIFY: &str = "verify_review";
/// The job that starts scheduled verifications of one environment.
pub const JOB_VERIFY_ENVIRONMENT: &str = "verify_environment";

#[derive(Debug, Serialize, Deserialize)]
pub struct VerifyJob {
    pub run_id: Uuid,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct VerifyEnvironmentJob {
    pub environment_id: Uuid,
}

struct RunRow {
    id: Uuid,
    review_id: Uuid,
    trigger: String,
    state: String,
    progress: Json<RunProgress>,
    source: Option<Json<SourceInfo>>,
    summary: Option<Json<RunSummary>>,
    error: Option<String>,
    requested_by: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    applied: bool,
}

impl From<RunRow> for VerificationRun {
    fn from(r: RunRow) -> Self {
        VerificationRun {
            id: r.id,
            review_id: r.review_id,
            trigger: r.trigger,
            state: r.state,
            progress: r.progress.0,
            source: r.source.map(|s| s.0),
            summary: r.summary.map(|s| s.0),
            error: r.error,
            requested_by: r.requested_by,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            applied: r.applied,
        }
    }
}

async fn fetch_run(conn: &mut PgConnection, id: Uuid) -> Result<VerificationRun> {
    sqlx::query_as!(
        RunRow,
        r#"SELECT id, review_id, trigger, state, progress AS "progress: Json<RunProgress>",
                  source AS "source: Json<SourceInfo>", summary AS "summary: Json<RunSummary>",
                  error, requested_by, created_at, started_at, finished_at, applied
           FROM verification_runs WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?
    .map(Into::into)
    .ok_or_else(|| Error::not_found("verification run"))
}

/// One run (for the live progress view).
pub async fn run(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<VerificationRun> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    fetch_run(&mut conn, id).await
}

/// A review's runs, newest first.
pub async fn runs(pool: &PgPool, caller: &Caller, review_id: Uuid) -> Result<Vec<VerificationRun>> {
    caller.actor.authorize(Action::Read)?;
    let rows = sqlx::query_as!(
        RunRow,
        r#"SELECT id, review_id, trigger, state, progress AS "progress: Json<RunProgress>",
                  source AS "source: Json<SourceInfo>", summary AS "summary: Json<RunSummary>",
                  error, requested_by, created_at, started_at, finished_at, applied
           FROM verification_runs WHERE review_id = $1 ORDER BY created_at DESC LIMIT 100"#,
        review_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Every result of a run, with evidence.
pub async fn results(pool: &PgPool, caller: &Caller, run_id: Uuid) -> Result<Vec<CheckResult>> {
    caller.actor.authorize(Action::Read)?;
    let rows = sqlx::query_as!(
        store::ResultRow,
        r#"SELECT run_id, check_id, subject AS "subject: Json<checks::ObjectRef>", outcome, message,
                  evidence AS "evidence: Json<checks::Evidence>"
           FROM verification_results WHERE run_id = $1 ORDER BY position"#,
        run_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(store::ResultRow::into_result)
        .collect())
}

/// Queues a verification of the review against its environment's cluster. A run already queued
/// or running for the review is returned instead of a second one.
#[tracing::instrument(skip_all, fields(%review_id))]
pub async fn request(
    pool: &PgPool,
    caller: &Caller,
    review_id: Uuid,
    trigger: &str,
    now: DateTime<Utc>,
) -> Result<VerificationRun> {
    let mut tx = pool.begin().await?;
    let h = head(&mut tx, review_id, true).await?;
    let ctx = context(&mut tx, h.application_id, h.environment_id).await?;
    if trigger == "schedule" {
        caller.actor.authorize(Action::ManageGoLive)?;
    } else {
        caller.actor.authorize(Action::WorkOnGoLive {
            team: &ctx.team_slug,
        })?;
    }
    if h.state == "withdrawn" {
        return Err(withdrawn());
    }
    let has_connection = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM cluster_connections WHERE environment_id = $1"#,
        h.environment_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if has_connection == 0 {
        return Err(Error::invalid(
            "environment",
            format!(
                "{} has no cluster connection yet: a platform engineer sets it under Go-live > Clusters.",
                ctx.environment_name
            ),
        ));
    }
    if ctx.namespaces.is_empty() {
        return Err(Error::invalid("namespaces", no_namespaces(&ctx)));
    }
    let pending = sqlx::query_scalar!(
        "SELECT id FROM verification_runs WHERE review_id = $1 AND state IN ('queued', 'running')
         ORDER BY created_at DESC LIMIT 1",
        review_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = pending {
        let run = fetch_run(&mut tx, id).await?;
        tx.commit().await?;
        return Ok(run);
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO verification_runs (review_id, trigger, requested_by, created_at, progress)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        review_id,
        trigger,
        caller.actor.name,
        now,
        Json(RunProgress {
            step: "Waiting for a worker".into(),
            done: 0,
            total: 0
        }) as _,
    )
    .fetch_one(&mut *tx)
    .await?;
    jobs::enqueue(&mut tx, JOB_VERIFY, &VerifyJob { run_id: id }, now, None).await?;
    audit::record(
        &mut tx,
        caller,
        "verification.request",
        "verification_run",
        &id.to_string(),
        None::<&()>,
        Some(&serde_json::json!({"review": review_id, "trigger": trigger})),
    )
    .await?;
    let run = fetch_run(&mut tx, id).await?;
    tx.commit().await?;
    Ok(run)
}

/// The automatic items of a review, as (check, params) for the engine, with their keys.
fn automatic_items(items: &[ReviewItem]) -> Vec<(String, CheckId, Params)> {
    items
        .iter()
        .filter_map(|i| {
            i.definition
                .check
                .map(|c| (i.key.clone(), c, i.definition.params.clone()))
        })
        .collect()
}

async fn set_progress(pool: &PgPool, run_ids: &[Uuid], progress: &RunProgress) {
    // Progress is best effort: a failed update must not fail the run.
    let _ = sqlx::query!(
        "UPDATE verification_runs SET progress = $2 WHERE id = ANY($1) AND state = 'running'",
        run_ids,
        Json(progress) as _,
    )
    .execute(pool)
    .await;
}

/// A verification being executed: its run, review and automatic items, and the queue's job when
/// it joined another run's batch.
struct Started {
    run_id: Uuid,
    review_id: Uuid,
    ctx: ReviewContext,
    wanted: Vec<(String, CheckId, Params)>,
    job: Option<jobs::Job>,
}

/// Marks a queued run running and loads what it verifies; None when it already finished.
async fn start(
    conn: &mut PgConnection,
    run_id: Uuid,
    job: Option<jobs::Job>,
    now: DateTime<Utc>,
) -> Result<Option<Started>> {
    let claimed = sqlx::query_scalar!(
        "UPDATE verification_runs SET state = 'running', started_at = $2
         WHERE id = $1 AND state IN ('queued', 'running') RETURNING review_id",
        run_id,
        now
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(review_id) = claimed else {
        return Ok(None);
    };
    let h = head(conn, review_id, false).await?;
    let ctx = context(conn, h.application_id, h.environment_id).await?;
    let items = store::items(conn, review_id, now).await?;
    Ok(Some(Started {
        run_id,
        review_id,
        ctx,
        wanted: automatic_items(&items),
        job,
    }))
}

/// The most verifications that share one read of a cluster.
const BATCH: i64 = 50;

/// Claims the queue's other verifications of the same cluster that are waiting, so that they
/// share one read: ten applications verified at once read the cluster once, not ten times.
async fn claim_companions(
    pool: &PgPool,
    worker: &str,
    environment_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<jobs::Job>> {
    let candidates = sqlx::query_scalar!(
        "SELECT j.id FROM jobs j
         JOIN verification_runs r ON r.id = (j.payload->>'run_id')::uuid
         JOIN golive_reviews v ON v.id = r.review_id
         WHERE j.kind = $1 AND j.done_at IS NULL AND j.failed_at IS NULL AND j.run_at <= $2
           AND (j.locked_until IS NULL OR j.locked_until < $2)
           AND r.state = 'queued' AND v.environment_id = $3
         ORDER BY j.run_at, j.id LIMIT $4",
        JOB_VERIFY,
        now,
        environment_id,
        BATCH - 1,
    )
    .fetch_all(pool)
    .await?;
    jobs::claim_these(pool, worker, &candidates, now, jobs::LEASE).await
}

/// Runs a queued verification (the worker calls this for a [`JOB_VERIFY`] job), together with
/// the other verifications of the same cluster waiting in the queue: the cluster is read once,
/// for the union of their namespaces, and each run evaluates its own namespaces' part of it.
/// Idempotent: a run that already finished is left alone. A cluster that cannot be reached
/// finishes the runs as failed with the reason; they are not retried by the queue (the next
/// request or schedule is). The runs that joined are settled here; the one the worker claimed is
/// settled by the worker from the answer.
#[tracing::instrument(skip_all, fields(%run_id))]
pub async fn execute(
    pool: &PgPool,
    secrets: &SecretBox,
    worker: &str,
    run_id: Uuid,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let Some(first) = start(&mut conn, run_id, None, now()).await? else {
        return Ok(());
    };
    let environment_id = first.ctx.environment_id;
    let mut batch = vec![first];
    let companions = match claim_companions(pool, worker, environment_id, now()).await {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim other verifications of the cluster");
            Vec::new()
        }
    };
    for job in companions {
        let started = match serde_json::from_value::<VerifyJob>(job.payload.clone()) {
            Ok(p) => start(&mut conn, p.run_id, Some(job.clone()), now()).await,
            Err(e) => Err(internal(&e)),
        };
        match started {
            Ok(Some(run)) => batch.push(run),
            Ok(None) => settle(pool, worker, &job, Ok(()), now()).await,
            Err(e) => settle(pool, worker, &job, Err(e), now()).await,
        }
    }
    // An application whose namespaces were removed after its run was queued has nothing to
    // read: an empty list would mean every namespace of the cluster, other teams' included.
    let (batch, orphans): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .partition(|run| !run.ctx.namespaces.is_empty());
    let mut outcomes = Vec::with_capacity(orphans.len() + batch.len());
    for run in &orphans {
        let reason = no_namespaces(&run.ctx);
        outcomes.push(finish_failed(pool, run.run_id, &reason, Failure::Other, now()).await);
    }
    if !batch.is_empty() {
        let spec = connections::spec(&mut conn, secrets, environment_id).await;
        drop(conn);
        outcomes.extend(verify_batch(pool, &batch, spec, &now).await);
    }
    let mut mine = Ok(());
    for (run, outcome) in orphans.into_iter().chain(batch).zip(outcomes) {
        match run.job {
            Some(job) => settle(pool, worker, &job, outcome, now()).await,
            None => mine = outcome,
        }
    }
    mine
}

/// Why a verification of an application without namespaces on the environment cannot run.
fn no_namespaces(ctx: &ReviewContext) -> String {
    format!(
        "{} has no namespaces on {}: add them to the application first.",
        ctx.application_name, ctx.environment_name
    )
}

/// Why nothing could be read from a cluster, when neither workloads, Pods nor Nodes were.
fn unreadable(snapshot: &checks::snapshot::Snapshot) -> Option<String> {
    use checks::snapshot::Source;
    fn problem<T>(source: &Source<T>) -> Option<&str> {
        match source {
            Source::Forbidden(why) | Source::Failed(why) => Some(why),
            Source::Read(_) | Source::NotInstalled => None,
        }
    }
    let deployments = problem(&snapshot.deployments)?;
    problem(&snapshot.pods)?;
    problem(&snapshot.nodes)?;
    Some(deployments.to_owned())
}

/// Records how a verification that joined a batch ended, in the queue.
async fn settle(
    pool: &PgPool,
    worker: &str,
    job: &jobs::Job,
    outcome: Result<()>,
    now: DateTime<Utc>,
) {
    if jobs::settle(pool, job, worker, now, &outcome).await == jobs::Settled::GaveUp
        && let Err(e) = &outcome
        && let Err(e) = abandon(pool, job, &e.to_string(), now).await
    {
        tracing::warn!(job = job.id, error = %e, "cannot record a job given up");
    }
}

/// Reads the cluster once for the runs of a batch (all on one environment) and records each
/// run's results; one outcome per run, in order.
async fn verify_batch(
    pool: &PgPool,
    batch: &[Started],
    spec: Result<checks::cluster::ConnectionSpec>,
    now: &impl Fn() -> DateTime<Utc>,
) -> Vec<Result<()>> {
    let fail_all = |reason: String| async move {
        let mut out = Vec::with_capacity(batch.len());
        for run in batch {
            out.push(
                finish_failed(pool, run.run_id, &reason, Failure::ClusterUnreadable, now()).await,
            );
        }
        out
    };
    let spec = match spec {
        Ok(spec) => spec,
        Err(e) => return fail_all(e.to_string()).await,
    };
    let run_ids: Vec<Uuid> = batch.iter().map(|r| r.run_id).collect();
    set_progress(
        pool,
        &run_ids,
        &RunProgress {
            step: "Connecting to the cluster".into(),
            done: 0,
            total: 0,
        },
    )
    .await;
    let client = match checks::cluster::client(&spec).await {
        Ok(c) => c,
        Err(e) => return fail_all(e.to_string()).await,
    };
    // The reader reports progress through a channel; a task writes it to the runs' rows.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<RunProgress>();
    let writer = {
        let pool = pool.clone();
        let run_ids = run_ids.clone();
        tokio::spawn(async move {
            while let Some(mut p) = rx.recv().await {
                // Coalesce bursts: only the newest progress matters.
                while let Ok(next) = rx.try_recv() {
                    p = next;
                }
                set_progress(&pool, &run_ids, &p).await;
            }
        })
    };
    let report = move |p: checks::cluster::Progress| {
        let _ = tx.send(RunProgress {
            step: match p.objects {
                Some(n) => format!("Read {} ({n})", p.kind),
                None => format!("Could not read {}", p.kind),
            },
            done: p.done as u32,
            total: p.total as u32,
        });
    };
    let namespaces: Vec<String> = batch
        .iter()
        .flat_map(|r| r.ctx.namespaces.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let started = std::time::Instant::now();
    let mut snapshot = checks::cluster::read_snapshot(&client, &namespaces, &report).await;
    drop(report);
    let _ = writer.await;
    let read = started.elapsed();
    // Nothing at all could be read (the API server is gone, the credentials were revoked): the
    // runs fail with the reason instead of succeeding with an error on every check.
    if let Some(reason) = unreadable(&snapshot) {
        return fail_all(format!("The cluster could not be read: {reason}")).await;
    }
    let ctx = &batch[0].ctx;
    // Which cluster the results come from: the environment and the API server read.
    if let Some(source) = snapshot.source.as_mut() {
        source.name = format!("{} / {}", ctx.platform_name, ctx.environment_name);
        source.server = Some(spec.server());
    }
    let source = snapshot.source.clone().unwrap_or(SourceInfo {
        kind: "cluster".into(),
        name: ctx.environment_name.clone(),
        server_version: None,
        server: Some(spec.server()),
        read_at: now(),
    });
    // Every read tells the cluster's version: the calendar's end-of-life warnings follow an
    // upgrade from the next verification on, not only from the next "test connection".
    if let Some(version) = &source.server_version
        && let Err(e) = sqlx::query!(
            "UPDATE cluster_connections SET last_server_version = $2
             WHERE environment_id = $1 AND last_server_version IS DISTINCT FROM $2",
            ctx.environment_id,
            version
        )
        .execute(pool)
        .await
    {
        tracing::warn!(error = %e, "could not record the cluster's version");
    }
    // Evaluation is CPU work: it runs on the blocking pool, the next run's while this one's
    // results are written.
    let snapshot = std::sync::Arc::new(snapshot);
    let shared = batch.len() > 1;
    // What each namespace's Pods ask of the nodes, added up once for all the batch's parts.
    let loads = std::sync::Arc::new(std::sync::OnceLock::new());
    let evaluate = |run: &Started| {
        let snapshot = snapshot.clone();
        let loads = loads.clone();
        let namespaces = run.ctx.namespaces.clone();
        let checks_wanted: Vec<(CheckId, Params)> =
            run.wanted.iter().map(|(_, c, p)| (*c, p.clone())).collect();
        let at = now();
        tokio::task::spawn_blocking(move || {
            let t0 = std::time::Instant::now();
            let results = if shared {
                let loads = loads.get_or_init(|| snapshot.loads_by_namespace());
                let part = snapshot.narrowed_with(&namespaces, loads);
                checks::engine::evaluate(&part, &checks_wanted, at)
            } else {
                checks::engine::evaluate(&snapshot, &checks_wanted, at)
            };
            (results, t0.elapsed())
        })
    };
    // Writing is the longest part (tens of thousands of rows per run): two runs' writes go on at
    // once, each on its own connection and transaction, while the next run is evaluated.
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut writing: std::collections::VecDeque<tokio::task::JoinHandle<Result<()>>> =
        std::collections::VecDeque::new();
    let mut next = batch.first().map(evaluate);
    for (i, run) in batch.iter().enumerate() {
        // The runs still waiting say where they stand; the read's last step stays in the others.
        if shared {
            set_progress(
                pool,
                &run_ids[i..],
                &RunProgress {
                    step: format!(
                        "Read the cluster once for {n} applications; {i} of {n} checked",
                        n = batch.len()
                    ),
                    done: i as u32,
                    total: batch.len() as u32,
                },
            )
            .await;
        }
        let Some(evaluating) = next.take() else {
            break;
        };
        let evaluated = evaluating.await;
        next = batch.get(i + 1).map(evaluate);
        let (results, evaluated) = match evaluated {
            Ok(done) => done,
            Err(e) => {
                writing.push_back(tokio::spawn(std::future::ready(Err(internal(&e)))));
                continue;
            }
        };
        while writing.len() >= WRITE_LANES {
            outcomes.push(joined(writing.pop_front()).await);
        }
        let pool = pool.clone();
        let (review_id, run_id, namespaces) = (run.review_id, run.run_id, run.ctx.namespaces.len());
        let wanted = run.wanted.clone();
        let source = source.clone();
        let at = now();
        let batch_len = batch.len();
        writing.push_back(tokio::spawn(async move {
            let t0 = std::time::Instant::now();
            let mut tx = pool.begin().await?;
            record(
                &mut tx,
                review_id,
                run_id,
                &wanted,
                &results,
                &source,
                Apply::Live,
                at,
            )
            .await?;
            tx.commit().await?;
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
            tracing::info!(
                %run_id,
                batch = batch_len,
                namespaces,
                results = results.len(),
                read_ms = ms(read),
                evaluate_ms = ms(evaluated),
                write_ms = ms(t0.elapsed()),
                "verification finished"
            );
            Ok(())
        }));
    }
    while let Some(handle) = writing.pop_front() {
        outcomes.push(joined(Some(handle)).await);
    }
    outcomes
}

/// How many runs of a batch write their results at once.
const WRITE_LANES: usize = 2;

/// The outcome of a spawned write (a task that panicked is an internal error).
async fn joined(handle: Option<tokio::task::JoinHandle<Result<()>>>) -> Result<()> {
    match handle {
        Some(handle) => handle.await.unwrap_or_else(|e| Err(internal(&e))),
        None => Ok(()),
    }
}

/// How a failed run concerns the application's team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The cluster could not be read (no connection, no client, nothing readable): on an
    /// approved review the team hears of the first such failure after a run that worked, since
    /// nothing watches the application for drift until the cluster can be read again.
    ClusterUnreadable,
    /// Anything else (the queue gave up on the job): recorded on the run only.
    Other,
}

/// Marks a run failed, unless it already finished; tells the team when `failure` says so.
pub(crate) async fn finish_failed(
    pool: &PgPool,
    run_id: Uuid,
    error: &str,
    failure: Failure,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let run = sqlx::query!(
        r#"WITH previous AS (
             SELECT p.id, p.state FROM verification_runs p
             WHERE p.review_id = (SELECT review_id FROM verification_runs WHERE id = $1)
               AND p.id <> $1 AND p.state IN ('succeeded', 'failed')
               AND p.trigger NOT IN ('upload', 'ci')
             ORDER BY p.finished_at DESC LIMIT 1)
         UPDATE verification_runs v SET state = 'failed', error = $2, finished_at = $3,
                progress = jsonb_build_object('step', 'Failed', 'done', 0, 'total', 0)
         FROM golive_reviews r
         WHERE v.id = $1 AND v.state IN ('queued', 'running') AND r.id = v.review_id
         RETURNING v.review_id, v.trigger, r.state AS review_state,
           (SELECT id FROM previous) AS "previous_id?",
           (SELECT state FROM previous) AS "previous_state?""#,
        run_id,
        error,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(run) = run
        && failure == Failure::ClusterUnreadable
        && run.review_state == "approved"
        && run.previous_state.as_deref() == Some("succeeded")
        && let Some(previous) = run.previous_id
        && !matches!(run.trigger.as_str(), "upload" | "ci")
    {
        let notice = notify::VerificationFailedNotice {
            subject: subject(&mut tx, run.review_id).await?,
            run_id,
            error: error.to_owned(),
            failed_at: now,
        };
        // One notice per outage: runs failing at once on several replicas all follow the same
        // last run that worked.
        let once = format!("verification_failed:{previous}");
        notify::enqueue_verification_failed(&mut tx, &notice, &once, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Results stored per INSERT statement.
const RESULT_BATCH: usize = 2000;

/// How far a run's results decide the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Apply {
    /// Read from the cluster: every outcome sets its item.
    Live,
    /// An upload or CI report for an environment Demarc cannot read (no connection): passes and
    /// failures set their items. Files cannot prove that something is absent from a cluster (a
    /// List without ServiceMonitors, a report of some checks only), so an item they answer
    /// "not applicable" or with an error keeps what it was. `evaluated` is true when Demarc
    /// evaluated the objects itself (an upload), false for results computed elsewhere.
    Offline { evaluated: bool },
    /// An upload or CI report for an environment Demarc reads live: kept as evidence, and the
    /// checklist left to the cluster.
    Evidence,
}

/// The source of results computed elsewhere, as Demarc records it: a "report", whatever the
/// pipeline says it read. Demarc did not read those objects itself, so a report never passes
/// for a read of the cluster; what the pipeline claims to have read stays in the name.
fn reported_source(claimed: Option<SourceInfo>, now: DateTime<Utc>) -> SourceInfo {
    match claimed {
        Some(c) => SourceInfo {
            kind: "report".into(),
            name: format!("{} {}", c.kind, c.name),
            server_version: c.server_version,
            server: None,
            read_at: c.read_at.min(now),
        },
        None => SourceInfo {
            kind: "report".into(),
            name: "CI".into(),
            server_version: None,
            server: None,
            read_at: now,
        },
    }
}

/// Stores a run's results and applies them to the review's automatic items (in the caller's
/// transaction): the combined outcome per item, drift after go-live, notifications.
#[allow(clippy::too_many_arguments)]
async fn record(
    conn: &mut PgConnection,
    review_id: Uuid,
    run_id: Uuid,
    wanted: &[(String, CheckId, Params)],
    results: &[CheckResult],
    source: &SourceInfo,
    apply: Apply,
    now: DateTime<Utc>,
) -> Result<()> {
    // A run over many namespaces has tens of thousands of results: insert them in batches of
    // arrays (one statement per batch, not one round trip per result).
    for (chunk_no, chunk) in results.chunks(RESULT_BATCH).enumerate() {
        let first = chunk_no * RESULT_BATCH;
        let positions: Vec<i32> = (first..first + chunk.len()).map(|p| p as i32).collect();
        let checks: Vec<&str> = chunk.iter().map(|r| r.check.as_str()).collect();
        let outcomes: Vec<&str> = chunk.iter().map(|r| r.outcome.as_str()).collect();
        let messages: Vec<&str> = chunk.iter().map(|r| r.message.as_str()).collect();
        // JSON as text, cast in the statement: cheaper than building serde_json values.
        let mut subjects = Vec::with_capacity(chunk.len());
        let mut evidence = Vec::with_capacity(chunk.len());
        for r in chunk {
            subjects.push(serde_json::to_string(&r.subject).map_err(|e| internal(&e))?);
            evidence.push(serde_json::to_string(&r.evidence).map_err(|e| internal(&e))?);
        }
        sqlx::query!(
            "INSERT INTO verification_results (run_id, position, check_id, subject, outcome, message, evidence)
             SELECT $1, p, c, s::jsonb, o, m, e::jsonb
             FROM UNNEST($2::int4[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(p, c, s, o, m, e)",
            run_id,
            &positions,
            &checks as &[&str],
            &subjects,
            &outcomes as &[&str],
            &messages as &[&str],
            &evidence,
        )
        .execute(&mut *conn)
        .await?;
    }
    let h = head(conn, review_id, true).await?;
    // What the items were, without their previous results (which can be megabytes).
    let before = sqlx::query!(
        r#"SELECT key, definition AS "definition: Json<ItemDef>", status, decided_by_person
           FROM golive_items WHERE review_id = $1"#,
        review_id
    )
    .fetch_all(&mut *conn)
    .await?;
    // The items an active waiver covers at the run's time: they count as waived whatever the run
    // finds, so their failing again is no drift (when the waiver runs out or is revoked while
    // the item still fails, that is recorded then). As for the items' effective status, the
    // newest waiver not revoked is the one in force.
    let waived: std::collections::HashSet<String> = sqlx::query_scalar!(
        r#"SELECT w.item_key AS "item_key!" FROM (
               SELECT DISTINCT ON (item_key) item_key, expires_at FROM golive_waivers
               WHERE review_id = $1 AND revoked_at IS NULL
               ORDER BY item_key, created_at DESC) w
           WHERE w.expires_at > $2"#,
        review_id,
        now
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let mut by_check: BTreeMap<CheckId, Vec<&CheckResult>> = BTreeMap::new();
    for r in results {
        by_check.entry(r.check).or_default().push(r);
    }
    // Namespaces without a single workload (a misspelt namespace, an application not deployed
    // yet) would make every workload check "not applicable", and the review look ready: with
    // nothing to check, an item no result speaks for fails instead. A read that failed says
    // nothing about what is there, so errors leave this alone.
    // (Only where Demarc saw the objects: a CI report of some checks says nothing of the rest.)
    let saw_objects = matches!(apply, Apply::Live | Apply::Offline { evaluated: true });
    let nothing_found = saw_objects
        && !results
            .iter()
            .any(|r| r.subject.kind != "Namespace" || r.outcome == Outcome::Error);
    let mut drifts = Vec::new();
    for (key, check, _) in wanted {
        if apply == Apply::Evidence {
            break;
        }
        let mine: &[&CheckResult] = by_check.get(check).map_or(&[], Vec::as_slice);
        let (outcome, message) = if mine.is_empty() && nothing_found {
            (Outcome::Fail, NOTHING_FOUND.to_owned())
        } else {
            let outcome = Outcome::combine(mine.iter().map(|r| r.outcome));
            (outcome, summarize(mine, outcome))
        };
        if matches!(apply, Apply::Offline { .. })
            && matches!(outcome, Outcome::NotApplicable | Outcome::Error)
        {
            continue;
        }
        let old = before.iter().find(|i| &i.key == key);
        // An item a person marked not applicable stays so; errors leave the status as it was.
        let recorded = old.and_then(|i| ItemStatus::parse_settable(&i.status));
        let person_decided =
            recorded == Some(ItemStatus::NotApplicable) && old.is_some_and(|i| i.decided_by_person);
        let status = match outcome {
            _ if person_decided => None,
            Outcome::Pass | Outcome::Warn => Some(ItemStatus::Passed),
            Outcome::Fail => Some(ItemStatus::Failed),
            Outcome::NotApplicable => Some(ItemStatus::NotApplicable),
            Outcome::Error => None,
        };
        let reason = if status == Some(ItemStatus::NotApplicable) {
            message.clone()
        } else {
            String::new()
        };
        sqlx::query!(
            "UPDATE golive_items SET outcome = $3, message = $4, run_id = $5, checked_at = $6,
                    status = COALESCE($7, status), reason = CASE WHEN $7::text IS NULL THEN reason ELSE $8 END,
                    updated_by = CASE WHEN $7::text IS NULL THEN updated_by ELSE 'Demarc' END,
                    version = version + 1
             WHERE review_id = $1 AND key = $2",
            review_id,
            key,
            outcome.as_str(),
            message,
            run_id,
            now,
            status.map(ItemStatus::as_str),
            reason,
        )
        .execute(&mut *conn)
        .await?;
        // Drift: after go-live, a required item that was passing, or that did not apply (say,
        // no Ingress then, one without TLS now), fails, and no waiver covers it.
        if let Some(old) = old
            && h.state == "approved"
            && old.definition.required
            && let Some(previous @ (ItemStatus::Passed | ItemStatus::NotApplicable)) = recorded
            && status == Some(ItemStatus::Failed)
            && !waived.contains(key)
        {
            drifts.push((
                old.key.clone(),
                old.definition.title.clone(),
                message.clone(),
                previous,
            ));
        }
        // A drift is resolved when its item is done again: it passes, or what failed is gone
        // (the Ingress without TLS was removed, so the item does not apply any more).
        if status.is_some_and(ItemStatus::is_done) {
            sqlx::query!(
                "UPDATE drift_events SET resolved_at = $3 WHERE review_id = $1 AND item_key = $2 AND resolved_at IS NULL",
                review_id,
                key,
                now
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    for (key, _, message, previous) in &drifts {
        sqlx::query!(
            "INSERT INTO drift_events (review_id, run_id, item_key, previous, current, message, detected_at)
             VALUES ($1, $2, $3, $4, 'failed', $5, $6)",
            review_id,
            run_id,
            key,
            previous.as_str(),
            message,
            now
        )
        .execute(&mut *conn)
        .await?;
    }
    let summary = RunSummary::of(results);
    sqlx::query!(
        "UPDATE verification_runs SET state = 'succeeded', finished_at = $2, source = $3, summary = $4,
                progress = jsonb_build_object('step', 'Done', 'done', $5::int, 'total', $5::int),
                applied = $6
         WHERE id = $1",
        run_id,
        now,
        Json(source) as _,
        Json(&summary) as _,
        results.len() as i32,
        apply != Apply::Evidence,
    )
    .execute(&mut *conn)
    .await?;
    if !drifts.is_empty() {
        let regressions = drifts
            .into_iter()
            .map(|(item, title, message, _)| notify::Regression {
                item,
                title,
                message,
            })
            .collect();
        send_drift(conn, review_id, Some(run_id), regressions, now).await?;
    }
    Ok(())
}

/// Queues the drift notice of one review to its team's webhooks.
async fn send_drift(
    conn: &mut PgConnection,
    review_id: Uuid,
    run_id: Option<Uuid>,
    regressions: Vec<notify::Regression>,
    now: DateTime<Utc>,
) -> Result<()> {
    let notice = notify::DriftNotice {
        subject: subject(conn, review_id).await?,
        run_id,
        regressions,
        detected_at: now,
    };
    notify::enqueue_drift(conn, &notice, now).await?;
    Ok(())
}

/// A review as its notifications name it.
async fn subject(conn: &mut PgConnection, review_id: Uuid) -> Result<notify::ReviewSubject> {
    let h = head(&mut *conn, review_id, false).await?;
    let ctx = context(&mut *conn, h.application_id, h.environment_id).await?;
    Ok(notify::ReviewSubject {
        application: ctx.application_name,
        application_slug: ctx.application_slug,
        team: ctx.team_slug,
        environment: ctx.environment_name,
        platform: ctx.platform_name,
        review_id,
    })
}

/// Rows grouped by the review they belong to (in review id order).
fn by_review<T>(rows: impl IntoIterator<Item = (Uuid, T)>) -> BTreeMap<Uuid, Vec<T>> {
    let mut grouped: BTreeMap<Uuid, Vec<T>> = BTreeMap::new();
    for (review_id, row) in rows {
        grouped.entry(review_id).or_default().push(row);
    }
    grouped
}

/// Waivers on approved reviews that run out within [`WAIVER_WARNING_DAYS`]: the team hears of
/// them once, while there is still time to fix the item or ask for a new waiver. Like
/// [`note_expired_waivers`], the update that marks a waiver warned is the claim. Returns how
/// many waivers it warned of.
pub async fn warn_expiring_waivers(pool: &PgPool, now: DateTime<Utc>) -> Result<u32> {
    let mut tx = pool.begin().await?;
    let soon = sqlx::query!(
        "UPDATE golive_waivers w SET expiry_warned_at = $1
         FROM golive_reviews r
         WHERE r.id = w.review_id AND r.state = 'approved'
           AND w.revoked_at IS NULL AND w.expiry_warned_at IS NULL
           AND w.expires_at > $1 AND w.expires_at <= $2
         RETURNING w.review_id, w.item_key, w.reason, w.expires_at",
        now,
        now + chrono::Duration::days(WAIVER_WARNING_DAYS)
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut warned = 0;
    let soon = soon
        .into_iter()
        .map(|w| (w.review_id, (w.item_key, w.reason, w.expires_at)));
    for (review_id, waivers) in by_review(soon) {
        let items = store::items(&mut tx, review_id, now).await?;
        // Only a waiver that covers something: an item that passes since needs none.
        let waivers: Vec<notify::ExpiringWaiver> = waivers
            .into_iter()
            .filter_map(|(key, reason, expires_at)| {
                let item = items.iter().find(|i| i.key == key)?;
                (item.definition.required && item.status == ItemStatus::Waived).then(|| {
                    notify::ExpiringWaiver {
                        item: key,
                        title: item.definition.title.clone(),
                        reason,
                        expires_at,
                    }
                })
            })
            .collect();
        if waivers.is_empty() {
            continue;
        }
        warned += waivers.len() as u32;
        let notice = notify::WaiverNotice {
            subject: subject(&mut tx, review_id).await?,
            waivers,
        };
        notify::enqueue_waiver_warning(&mut tx, &notice, now).await?;
    }
    tx.commit().await?;
    Ok(warned)
}

/// Waivers that ran out on approved reviews: each turns its item back to failing, which is drift
/// like a regression a run finds (recorded, shown on the board, sent to the team's webhooks).
/// Called by every replica's scheduler; the update that marks a waiver noted is the claim, so each
/// expiry is recorded and sent once. Returns how many drift events it recorded.
pub async fn note_expired_waivers(pool: &PgPool, now: DateTime<Utc>) -> Result<u32> {
    let mut tx = pool.begin().await?;
    let expired = sqlx::query!(
        "UPDATE golive_waivers w SET expiry_noted_at = $1
         FROM golive_reviews r
         WHERE r.id = w.review_id AND r.state = 'approved'
           AND w.revoked_at IS NULL AND w.expiry_noted_at IS NULL AND w.expires_at <= $1
         RETURNING w.id, w.review_id, w.item_key, w.expires_at",
        now
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut recorded = 0;
    let expired = expired
        .into_iter()
        .map(|w| (w.review_id, (w.id, w.item_key, w.expires_at)));
    for (review_id, waivers) in by_review(expired) {
        let items = store::items(&mut tx, review_id, now).await?;
        let mut regressions = Vec::new();
        for (waiver_id, key, expired_at) in waivers {
            // Only an item the expiry leaves failing matters: one that passes since, or is not
            // required, is not drift.
            let Some(item) = items.iter().find(|i| i.key == key) else {
                continue;
            };
            if !item.definition.required || item.status.is_done() {
                continue;
            }
            let message = format!(
                "The waiver ran out on {} and the item is not passing.",
                expired_at.format("%Y-%m-%d %H:%M UTC")
            );
            regressions.push(
                record_waiver_drift(&mut tx, review_id, waiver_id, item, message, now).await?,
            );
            recorded += 1;
        }
        if !regressions.is_empty() {
            send_drift(&mut tx, review_id, None, regressions, now).await?;
        }
    }
    tx.commit().await?;
    Ok(recorded)
}

/// Records the drift of an item a waiver no longer covers (it ran out, or was revoked) and that
/// fails: the regression to send to the team.
async fn record_waiver_drift(
    conn: &mut PgConnection,
    review_id: Uuid,
    waiver_id: Uuid,
    item: &ReviewItem,
    message: String,
    now: DateTime<Utc>,
) -> Result<notify::Regression> {
    sqlx::query!(
        "INSERT INTO drift_events (review_id, waiver_id, item_key, previous, current, message, detected_at)
         VALUES ($1, $2, $3, 'waived', $4, $5, $6)",
        review_id,
        waiver_id,
        item.key,
        item.status.as_str(),
        message,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(notify::Regression {
        item: item.key.clone(),
        title: item.definition.title.clone(),
        message,
    })
}

/// After a platform engineer revoked `waiver` (of item `waiver.item_key`) on an approved review
/// (the caller checked the state, with the review locked): when its required item is not done
/// without it (failing, or a manual item still to attest), that is drift, recorded and sent to
/// the team like any other.
pub(crate) async fn waiver_revoked(
    conn: &mut PgConnection,
    review_id: Uuid,
    waiver: &Waiver,
    revoked_by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let items = store::items(conn, review_id, now).await?;
    let Some(item) = items.iter().find(|i| i.key == waiver.item_key) else {
        return Ok(());
    };
    // Failing, or never done (a manual item that went live under the waiver).
    if !item.definition.required || item.status.is_done() {
        return Ok(());
    }
    let message = format!(
        "{revoked_by} revoked the waiver on {} and the item is not done.",
        now.format("%Y-%m-%d %H:%M UTC")
    );
    let regression = record_waiver_drift(conn, review_id, waiver.id, item, message, now).await?;
    send_drift(conn, review_id, None, vec![regression], now).await
}

/// Why an item fails when a run found no workload at all.
const NOTHING_FOUND: &str = "No workload was found in the application's namespaces on this \
    environment, so nothing could be checked: make sure the namespaces listed for this \
    environment are right and the application is deployed.";

/// One line for an item from its results: the failures' messages, or why it passed.
fn summarize(results: &[&CheckResult], outcome: Outcome) -> String {
    if results.is_empty() {
        return "No workload in the application's namespaces was found for this check.".into();
    }
    let relevant: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome == outcome)
        .map(|r| r.message.as_str())
        .collect();
    let mut text = relevant
        .iter()
        .take(3)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if relevant.len() > 3 {
        text.push_str(&format!(" (and {} more)", relevant.len() - 3));
    }
    text
}

/// Verifies a review from an uploaded `kubectl get ... -o json` List or YAML manifests
/// (air-gapped clusters, auditors' evidence), with the same engine, at once. The caller is
/// authorized before the upload (up to tens of megabytes) is parsed, and parsing runs on the
/// blocking pool. Objects that name no namespace (`helm template` output) belong to the
/// application's namespace on the environment when it has exactly one there (`default`
/// otherwise, as `kubectl apply` would). An upload without a single workload in the
/// application's namespaces is refused (field `file`), naming the namespaces it holds and the
/// ones expected: it would check nothing.
#[tracing::instrument(skip_all, fields(%review_id))]
pub async fn upload(
    pool: &PgPool,
    caller: &Caller,
    review_id: Uuid,
    file_name: &str,
    text: String,
    now: DateTime<Utc>,
) -> Result<VerificationRun> {
    let ctx = {
        let mut conn = pool.acquire().await?;
        let h = head(&mut conn, review_id, false).await?;
        let ctx = context(&mut conn, h.application_id, h.environment_id).await?;
        caller.actor.authorize(Action::WorkOnGoLive {
            team: &ctx.team_slug,
        })?;
        if h.state == "withdrawn" {
            return Err(withdrawn());
        }
        ctx
    };
    if ctx.namespaces.is_empty() {
        return Err(Error::invalid("namespaces", no_namespaces(&ctx)));
    }
    let options = checks::manifests::ManifestOptions {
        default_namespace: match ctx.namespaces.as_slice() {
            [only] => only.clone(),
            _ => checks::manifests::ManifestOptions::default().default_namespace,
        },
    };
    let name = file_name.to_owned();
    let set = tokio::task::spawn_blocking(move || {
        let docs = checks::manifests::parse_str(&text, &name)?;
        checks::manifests::snapshot_from_documents_with(docs, &options)
    })
    .await
    .map_err(|e| internal(&e))?
    .map_err(|e| Error::invalid("file", e.to_string()))?;
    let mut snapshot = set.snapshot;
    snapshot.source = Some(SourceInfo {
        kind: "upload".into(),
        name: file_name.into(),
        server_version: None,
        server: None,
        read_at: now,
    });
    store_offline(
        pool,
        caller,
        review_id,
        "upload",
        Offline::Snapshot(Box::new(snapshot)),
        now,
    )
    .await
}

/// The refusal of a change to a withdrawn review.
fn withdrawn() -> Error {
    Error::Conflict {
        message: "This review was withdrawn.".into(),
    }
}

/// Every namespace the namespaced objects of a snapshot name.
fn namespaces_in(snapshot: &checks::snapshot::Snapshot) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    macro_rules! typed {
        ($($kind:ident),*) => {$(
            for o in snapshot.$kind.items_or_empty() {
                if let Some(ns) = &o.metadata.namespace {
                    out.insert(ns.clone());
                }
            }
        )*};
    }
    typed!(
        deployments,
        stateful_sets,
        daemon_sets,
        cron_jobs,
        jobs,
        pods,
        services,
        service_accounts,
        pod_disruption_budgets,
        horizontal_pod_autoscalers,
        network_policies,
        limit_ranges,
        ingresses
    );
    for custom in [
        &snapshot.rollouts,
        &snapshot.service_monitors,
        &snapshot.pod_monitors,
        &snapshot.prometheus_rules,
        &snapshot.velero_schedules,
        &snapshot.velero_backups,
        &snapshot.certificates,
    ] {
        for o in custom.items_or_empty() {
            if let Some(ns) = o.pointer("/metadata/namespace").and_then(|v| v.as_str()) {
                out.insert(ns.to_owned());
            }
        }
    }
    out
}

/// Why an uploaded snapshot (all of it: its namespace filter not set yet) is refused: it holds
/// no workload in the application's namespaces, so every automatic item would fail for want of
/// anything to check (and, on an approved review, each passing one turn into drift). Names the
/// namespaces the upload holds and the ones expected. None when it holds a workload there.
fn no_workload_uploaded(
    snapshot: &checks::snapshot::Snapshot,
    ctx: &ReviewContext,
) -> Option<String> {
    let workloads = checks::engine::workloads(snapshot);
    if workloads
        .iter()
        .any(|w| ctx.namespaces.iter().any(|ns| ns == w.namespace))
    {
        return None;
    }
    let list = |names: Vec<&str>| {
        let mut names = names;
        names.sort_unstable();
        names.dedup();
        names.join(", ")
    };
    let expected = list(ctx.namespaces.iter().map(String::as_str).collect());
    let found = if !workloads.is_empty() {
        format!(
            "Its workloads are in {}.",
            list(workloads.iter().map(|w| w.namespace).collect())
        )
    } else {
        let namespaces = namespaces_in(snapshot);
        if namespaces.is_empty() {
            "It holds no workload and no object of a namespace.".to_owned()
        } else {
            format!(
                "It holds no workload at all, only other objects, in {}.",
                list(namespaces.iter().map(String::as_str).collect())
            )
        }
    };
    let whose = if ctx.namespaces.len() == 1 {
        "the namespace"
    } else {
        "the namespaces"
    };
    let example = ctx.namespaces.first().map_or("<namespace>", String::as_str);
    Some(format!(
        "This upload has no workload (Deployment, StatefulSet, DaemonSet, CronJob, Job or Argo \
         Rollout) in {expected}, {whose} of {} on {}, so it would check nothing. {found} Upload \
         the application's objects (e.g. `kubectl get \
         deploy,sts,ds,cronjobs,pods,pdb,hpa,networkpolicies -n {example} -o json`), or correct \
         the application's namespaces.",
        ctx.application_name, ctx.environment_name,
    ))
}

/// What an offline run starts from: objects to evaluate here, or results evaluated elsewhere.
enum Offline {
    Snapshot(Box<checks::snapshot::Snapshot>),
    Results {
        results: Vec<CheckResult>,
        source: Option<SourceInfo>,
        /// The parameters the results were judged with.
        params: Box<Params>,
    },
}

/// Records an offline run (upload or CI report) of a review at once, in one transaction.
async fn store_offline(
    pool: &PgPool,
    caller: &Caller,
    review_id: Uuid,
    trigger: &str,
    input: Offline,
    now: DateTime<Utc>,
) -> Result<VerificationRun> {
    let mut tx = pool.begin().await?;
    let h = head(&mut tx, review_id, true).await?;
    let ctx = context(&mut tx, h.application_id, h.environment_id).await?;
    caller.actor.authorize(Action::WorkOnGoLive {
        team: &ctx.team_slug,
    })?;
    if h.state == "withdrawn" {
        return Err(withdrawn());
    }
    let items = store::items(&mut tx, review_id, now).await?;
    let wanted = automatic_items(&items);
    let live = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM cluster_connections WHERE environment_id = $1) AS "live!""#,
        h.environment_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let evaluated = matches!(input, Offline::Snapshot(_));
    let apply = if live {
        Apply::Evidence
    } else {
        Apply::Offline { evaluated }
    };
    let (results, source) = match input {
        Offline::Snapshot(mut snapshot) => {
            // Checked again under the review's lock (the namespaces may have changed since the
            // upload was authorized): without namespaces the whole file would count.
            if ctx.namespaces.is_empty() {
                return Err(Error::invalid("namespaces", no_namespaces(&ctx)));
            }
            if let Some(why) = no_workload_uploaded(&snapshot, &ctx) {
                return Err(Error::invalid("file", why));
            }
            snapshot.namespaces = ctx.namespaces.clone();
            let source = snapshot.source.clone().unwrap_or(SourceInfo {
                kind: trigger.into(),
                name: trigger.into(),
                server_version: None,
                server: None,
                read_at: now,
            });
            let checks_wanted: Vec<(CheckId, Params)> =
                wanted.iter().map(|(_, c, p)| (*c, p.clone())).collect();
            // Evaluation is CPU work (an upload may hold thousands of objects).
            let results = tokio::task::spawn_blocking(move || {
                checks::engine::evaluate(&snapshot, &checks_wanted, now)
            })
            .await
            .map_err(|e| internal(&e))?;
            (results, source)
        }
        Offline::Results {
            results,
            source,
            params,
        } => {
            same_params(&wanted, &results, &params)?;
            (results, reported_source(source, now))
        }
    };
    let id = sqlx::query_scalar!(
        "INSERT INTO verification_runs (review_id, trigger, state, requested_by, created_at, started_at)
         VALUES ($1, $2, 'running', $3, $4, $4) RETURNING id",
        review_id,
        trigger,
        caller.actor.name,
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    record(
        &mut tx, review_id, id, &wanted, &results, &source, apply, now,
    )
    .await?;
    audit::record(
        &mut tx,
        caller,
        &format!("verification.{trigger}"),
        "verification_run",
        &id.to_string(),
        None::<&()>,
        Some(&serde_json::json!({"review": review_id, "source": source, "results": results.len()})),
    )
    .await?;
    let run = fetch_run(&mut tx, id).await?;
    tx.commit().await?;
    Ok(run)
}

/// A CI pipeline's report (from `server check --post`): results the pipeline computed from
/// manifest files, for an application's review on an environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CiReport {
    /// The application's slug.
    pub application: String,
    /// The environment's slug (on the application's platform).
    pub environment: String,
    pub source: Option<SourceInfo>,
    /// The check parameters the run used (`server check --param`); none means the defaults.
    #[serde(default)]
    pub params: Params,
    pub results: Vec<CheckResult>,
}

/// Refuses results judged with other parameters than the checklist's items ask for: a
/// report run with the defaults must not pass an item that asks for three replicas.
fn same_params(
    wanted: &[(String, CheckId, Params)],
    results: &[CheckResult],
    used: &Params,
) -> Result<()> {
    let present: std::collections::BTreeSet<CheckId> = results.iter().map(|r| r.check).collect();
    let mut problems = Vec::new();
    let mut flags = Vec::new();
    for (key, check, asked) in wanted {
        if !present.contains(check) {
            continue;
        }
        let (asked, used) = (asked.for_check(*check), used.for_check(*check));
        if asked == used {
            continue;
        }
        let show = |p: &Params| {
            let text = serde_json::to_string(p).unwrap_or_default();
            if text == "{}" {
                "the defaults".to_owned()
            } else {
                text
            }
        };
        problems.push(format!(
            "item `{key}` ({}) asks for {}, the report used {}",
            check.as_str(),
            show(&asked),
            show(&used)
        ));
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(&asked) {
            for (name, value) in fields {
                let value = match value {
                    serde_json::Value::Array(list) => list
                        .iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(","),
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                let flag = format!("--param {name}={value}");
                if !flags.contains(&flag) {
                    flags.push(flag);
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    // One run of `server check` has one set of parameters: items that ask for different values
    // of the same one (replicas and spread both read min_replicas) need a run each.
    let name_of = |flag: &String| flag.split('=').next().unwrap_or_default().to_owned();
    let names: std::collections::BTreeSet<String> = flags.iter().map(name_of).collect();
    let advice = if names.len() < flags.len() {
        format!(
            "The items ask for different values of the same parameter ({}): run and post their checks separately with --checks",
            flags.join(" ")
        )
    } else if flags.is_empty() {
        "Run `server check` again without --param".to_owned()
    } else {
        format!("Run `server check` again with {}", flags.join(" "))
    };
    Err(Error::invalid(
        "params",
        format!(
            "The report was judged with other check parameters than the checklist: {}. {advice}.",
            problems.join("; "),
        ),
    ))
}

/// Stores a CI report as a run of the application's live review on the environment.
pub async fn ci_report(
    pool: &PgPool,
    caller: &Caller,
    report: CiReport,
    now: DateTime<Utc>,
) -> Result<VerificationRun> {
    caller.actor.authorize(Action::Read)?;
    if report.results.len() > 100_000 {
        return Err(Error::invalid(
            "results",
            "At most 100,000 results per report.",
        ));
    }
    let ids = sqlx::query!(
        "SELECT r.id FROM golive_reviews r
         JOIN applications a ON a.id = r.application_id
         JOIN environments e ON e.id = r.environment_id
         WHERE a.slug = $1 AND e.slug = $2 AND r.state <> 'withdrawn'",
        report.application.trim(),
        report.environment.trim()
    )
    .fetch_all(pool)
    .await?;
    let review_id = match ids.as_slice() {
        [one] => one.id,
        [] => {
            return Err(Error::invalid(
                "application",
                format!(
                    "No open go-live review for application `{}` on environment `{}`.",
                    report.application, report.environment
                ),
            ));
        }
        _ => {
            return Err(Error::invalid(
                "environment",
                "Several platforms have an environment with this slug and a review: use the review's own endpoint.",
            ));
        }
    };
    store_offline(
        pool,
        caller,
        review_id,
        "ci",
        Offline::Results {
            results: report.results,
            source: report.source,
            params: Box::new(report.params),
        },
        now,
    )
    .await
}

/// Enqueues the scheduled verifications that are due: one environment job per connection and
/// time slot (the dedupe key makes replicas agree), which then queues a run per live review.
pub async fn schedule_due(pool: &PgPool, now: DateTime<Utc>) -> Result<u32> {
    let due = sqlx::query!(
        "SELECT environment_id, verify_every_minutes AS \"every!\" FROM cluster_connections
         WHERE verify_every_minutes IS NOT NULL"
    )
    .fetch_all(pool)
    .await?;
    let mut queued = 0;
    let mut tx = pool.begin().await?;
    for d in due {
        let slot = now.timestamp() / (i64::from(d.every) * 60);
        let key = format!("verify-env:{}:{}:{slot}", d.environment_id, d.every);
        if jobs::enqueue(
            &mut tx,
            JOB_VERIFY_ENVIRONMENT,
            &VerifyEnvironmentJob {
                environment_id: d.environment_id,
            },
            now,
            Some(&key),
        )
        .await?
        .is_some()
        {
            queued += 1;
        }
    }
    tx.commit().await?;
    Ok(queued)
}

/// Queues a scheduled run for every live review of the environment that has namespaces there.
pub async fn verify_environment(
    pool: &PgPool,
    environment_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u32> {
    let reviews = sqlx::query_scalar!(
        "SELECT r.id FROM golive_reviews r
         WHERE r.environment_id = $1 AND r.state <> 'withdrawn'
           AND EXISTS (SELECT 1 FROM application_namespaces n
                       WHERE n.application_id = r.application_id AND n.environment_id = r.environment_id)",
        environment_id
    )
    .fetch_all(pool)
    .await?;
    let caller = Caller::system();
    let mut n = 0;
    for id in reviews {
        match request(pool, &caller, id, "schedule", now).await {
            Ok(_) => n += 1,
            Err(e) => tracing::warn!(review = %id, error = %e, "scheduled verification not queued"),
        }
    }
    Ok(n)
}

/// Called when the queue gives up on a job (its last attempt failed): a verification that can
/// never run is finished as failed with the reason, instead of staying queued for ever.
pub async fn abandon(
    pool: &PgPool,
    job: &jobs::Job,
    error: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if job.kind == JOB_VERIFY
        && let Ok(p) = serde_json::from_value::<VerifyJob>(job.payload.clone())
    {
        finish_failed(
            pool,
            p.run_id,
            &format!("Gave up after {} attempts: {error}", job.attempt),
            Failure::Other,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Dispatches the queue's go-live jobs; None when the kind is not ours.
pub async fn handle_job(
    pool: &PgPool,
    secrets: &SecretBox,
    egress: &crate::egress::Egress,
    worker: &str,
    job: &jobs::Job,
    now: impl Fn() -> DateTime<Utc>,
) -> Option<Result<()>> {
    match job.kind.as_str() {
        JOB_VERIFY => Some(
            match serde_json::from_value::<VerifyJob>(job.payload.clone()) {
                Ok(p) => execute(pool, secrets, worker, p.run_id, now).await,
                Err(e) => Err(internal(&e)),
            },
        ),
        JOB_VERIFY_ENVIRONMENT => Some(
            match serde_json::from_value::<VerifyEnvironmentJob>(job.payload.clone()) {
                Ok(p) => verify_environment(pool, p.environment_id, now())
                    .await
                    .map(|_| ()),
                Err(e) => Err(internal(&e)),
            },
        ),
        notify::JOB_WEBHOOK => Some(notify::deliver(pool, secrets, egress, job, now()).await),
        _ => None,
    }
}
