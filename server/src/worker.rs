//! The job worker: claims due jobs from PostgreSQL and runs them, and enqueues scheduled work.
//! Every replica may run one; the queue (see `domain::jobs`) makes sure each job runs once.
//! A NOTIFY on `demarc_jobs` wakes the worker as soon as a job is added; otherwise it polls.

use std::time::Duration;

use domain::jobs;
use sqlx::postgres::PgListener;

use crate::state::AppState;

/// A replica's worker and scheduler, running on the runtime.
pub struct Worker {
    name: String,
    worker: tokio::task::JoinHandle<()>,
    scheduler: tokio::task::JoinHandle<()>,
}

/// Starts the worker loop and the scheduler on the runtime. They stop taking work once the
/// replica begins shutting down; [`Worker::finish`] waits for the job in hand.
pub fn spawn(state: AppState) -> Worker {
    let name = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "demarc".into()),
        uuid::Uuid::new_v4().simple()
    );
    let worker = {
        let state = state.clone();
        let name = name.clone();
        tokio::spawn(async move { run(state, name).await })
    };
    let scheduler = tokio::spawn(async move { schedule(state).await });
    Worker {
        name,
        worker,
        scheduler,
    }
}

impl Worker {
    /// The worker's and the scheduler's tasks, for a caller that stops them itself.
    pub fn into_tasks(self) -> Vec<tokio::task::JoinHandle<()>> {
        vec![self.worker, self.scheduler]
    }

    /// At shutdown: lets the job in hand finish within `grace`; a job still running then is
    /// given up (its lease released, so another replica takes it over at once).
    pub async fn finish(self, state: &AppState, grace: Duration) {
        self.scheduler.abort();
        if tokio::time::timeout(grace, self.worker).await.is_err() {
            tracing::warn!("grace period over: leaving the job in hand to another replica");
            if let Err(e) = jobs::release_leases(&state.pool, &self.name, state.clock.now()).await {
                tracing::warn!(error = %e, "cannot release the leases of this replica's jobs");
            }
        }
    }
}

async fn run(state: AppState, name: String) {
    let poll = Duration::from_millis(state.config.worker_poll_ms.max(50));
    let mut listener = match PgListener::connect_with(&state.pool).await {
        Ok(mut l) => match l.listen("demarc_jobs").await {
            Ok(()) => Some(l),
            Err(_) => None,
        },
        Err(_) => None,
    };
    loop {
        if state.shutting_down.is_set() {
            return;
        }
        match jobs::claim(&state.pool, &name, state.clock.now(), jobs::LEASE).await {
            Ok(Some(job)) => {
                run_one(&state, &name, job).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot claim jobs"),
        }
        match listener.as_mut() {
            Some(l) => {
                let _ = tokio::time::timeout(poll, l.recv()).await;
            }
            None => tokio::time::sleep(poll).await,
        }
    }
}

/// Runs one job, extending the leases of the jobs in hand while it runs (a verification of a
/// big cluster may outlast one lease).
async fn run_one(state: &AppState, name: &str, job: jobs::Job) {
    let work = handle(state, name, &job);
    tokio::pin!(work);
    let mut heartbeat = tokio::time::interval(
        (jobs::LEASE / 3)
            .to_std()
            .unwrap_or(Duration::from_secs(60)),
    );
    heartbeat.tick().await; // the first tick is immediate: the lease was just taken
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = heartbeat.tick() => {
                if let Err(e) = jobs::extend_leases(&state.pool, name, state.clock.now(), jobs::LEASE).await {
                    tracing::warn!(job = job.id, error = %e, "cannot extend the lease of a running job");
                }
            }
        }
    };
    settle(state, name, &job, outcome).await;
}

async fn handle(
    state: &AppState,
    name: &str,
    job: &jobs::Job,
) -> Option<std::result::Result<(), domain::Error>> {
    let clock = state.clock.clone();
    let outcome = domain::golive::runs::handle_job(
        &state.pool,
        &state.secrets,
        &state.config.webhook_egress,
        name,
        job,
        move || clock.now(),
    )
    .await;
    if outcome.is_some() {
        return outcome;
    }
    domain::calendar::notices::handle_job(
        &state.pool,
        &state.secrets,
        &state.config.mailer,
        job,
        state.clock.now(),
    )
    .await
}

async fn settle(
    state: &AppState,
    name: &str,
    job: &jobs::Job,
    outcome: Option<std::result::Result<(), domain::Error>>,
) {
    let now = state.clock.now();
    match outcome {
        Some(outcome) => {
            if jobs::settle(&state.pool, job, name, now, &outcome).await == jobs::Settled::GaveUp
                && let Err(e) = &outcome
                && let Err(e) =
                    domain::golive::runs::abandon(&state.pool, job, &e.to_string(), now).await
            {
                tracing::warn!(job = job.id, error = %e, "cannot record a job given up");
            }
        }
        None => {
            let _ = jobs::fail(&state.pool, job, name, now, "unknown job kind").await;
            tracing::error!(job = job.id, kind = %job.kind, "unknown job kind");
        }
    }
}

async fn schedule(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    // End-of-life thresholds are days apart: once an hour is plenty (the queue's dedupe keys
    // make each warning go out once, whichever replica checks first). Pruning goes with it.
    let mut eol_checked: Option<chrono::DateTime<chrono::Utc>> = None;
    loop {
        tick.tick().await;
        if state.shutting_down.is_set() {
            return;
        }
        let now = state.clock.now();
        if eol_checked.is_none_or(|at| now - at >= chrono::Duration::hours(1)) {
            eol_checked = Some(now);
            if let Err(e) = domain::calendar::notices::warn_end_of_life(&state.pool, now).await {
                tracing::warn!(error = %e, "cannot check Kubernetes end of life");
            }
            // Finished bookkeeping jobs leave the queue's history after their retention;
            // replicas doing it at the same time delete disjoint rows or none.
            match jobs::prune(&state.pool, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "pruned finished jobs"),
                Err(e) => tracing::warn!(error = %e, "cannot prune finished jobs"),
            }
        }
        if let Err(e) = domain::golive::runs::warn_expiring_waivers(&state.pool, now).await {
            tracing::warn!(error = %e, "cannot check waivers that run out soon");
        }
        if let Err(e) = domain::golive::runs::note_expired_waivers(&state.pool, now).await {
            tracing::warn!(error = %e, "cannot check expired waivers");
        }
        if let Err(e) = domain::golive::runs::schedule_due(&state.pool, state.clock.now()).await {
            tracing::warn!(error = %e, "cannot schedule verifications");
        }
    }
}
