//! A small, realistic data set for trying Demarc (`scripts/run --demo-data`). Loaded through the
//! domain operations, so it is validated and audited like any other change; skipped when the
//! catalogue already has teams.

use domain::db::{Caller, PgPool};
use domain::model::{
    ApplicationInput, EnvironmentInput, ListQuery, Placement, PlatformInput, TeamInput,
};
use domain::{applications, environments, platforms, teams};

/// Loads the demo catalogue and a maintenance calendar for it (plans with a skew, a holiday
/// blackout, an announced maintenance and a DR drill), unless there is data already.
pub async fn load_all(pool: &PgPool, now: chrono::DateTime<chrono::Utc>) -> domain::Result<()> {
    // Replicas started together with demo data take turns: the first loads it, the others then
    // find the catalogue filled and skip. The lock is the session's, on a connection of its own.
    const DEMO_LOCK: i64 = 0x6465_6d61_7263_0001;
    let mut lock = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(DEMO_LOCK)
        .execute(&mut *lock)
        .await?;
    let loaded = load_all_in_turn(pool, now).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(DEMO_LOCK)
        .execute(&mut *lock)
        .await?;
    loaded
}

async fn load_all_in_turn(pool: &PgPool, now: chrono::DateTime<chrono::Utc>) -> domain::Result<()> {
    let had_data = teams::list(pool, &Caller::system(), &ListQuery::default())
        .await?
        .total
        > 0;
    load(pool).await?;
    if !had_data {
        calendar(pool, now).await?;
    }
    Ok(())
}

/// The demo calendar of platform core.
async fn calendar(pool: &PgPool, now: chrono::DateTime<chrono::Utc>) -> domain::Result<()> {
    use chrono::{Datelike, Duration, NaiveDate};
    use domain::calendar::maintenances::{self, Transition};
    use domain::calendar::model::*;
    use domain::calendar::{BlackoutPolicy, Ordinal, Recurrence, drills, plans};

    let caller = Caller::system();
    let env = |slug: &'static str| async move {
        sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM environments WHERE slug = $1")
            .bind(slug)
            .fetch_one(pool)
            .await
    };
    let (Ok(staging), Ok(production)) = (env("staging").await, env("production").await) else {
        return Ok(());
    };
    let platform =
        sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM platforms WHERE slug = 'core'")
            .fetch_one(pool)
            .await?;
    let all = vec![Category::SecurityPatch, Category::Minor, Category::Major];
    plans::save_plan(
        pool,
        &caller,
        staging,
        PlanForm {
            recurrence: Some(Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Second,
                weekday: chrono::Weekday::Tue,
            }),
            follows_environment_id: None,
            soak_working_days: None,
            start_time: "20:00".into(),
            time_zone: "Europe/Amsterdam".into(),
            duration_hours: 6,
            blackout_policy: BlackoutPolicy::MoveToNextAllowedDay,
            allowed_categories: all.clone(),
            base_version: 0,
        },
        now,
    )
    .await?;
    plans::save_plan(
        pool,
        &caller,
        production,
        PlanForm {
            recurrence: None,
            follows_environment_id: Some(staging),
            soak_working_days: Some(5),
            start_time: "22:00".into(),
            time_zone: "Europe/Amsterdam".into(),
            duration_hours: 6,
            blackout_policy: BlackoutPolicy::MoveToNextAllowedDay,
            allowed_categories: all,
            base_version: 0,
        },
        now,
    )
    .await?;
    let year = now.year();
    if let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 12, 24),
        NaiveDate::from_ymd_opt(year + 1, 1, 1),
    ) {
        plans::add_blackout(
            pool,
            &caller,
            platform,
            BlackoutForm {
                environment_id: None,
                first_day: first,
                last_day: last,
                reason: "Year-end change freeze".into(),
            },
            now,
        )
        .await?;
    }
    let windows = plans::schedule(pool, &caller, staging, now, now + Duration::days(120))
        .await?
        .windows;
    if let Some(w) = windows
        .iter()
        .find(|w| w.starts_at > now + Duration::days(2))
    {
        let m = maintenances::create(
            pool,
            &caller,
            MaintenanceForm {
                environment_id: staging,
                category: "minor".into(),
                title: "Node OS image and CoreDNS update".into(),
                window_date: Some(w.local_date),
                node_image: "Flatcar 4230.2.1".into(),
                components: "CoreDNS 1.12, metrics-server 0.8".into(),
                expected_impact: "Nodes are drained one at a time; pods restart once.".into(),
                contingency_plan: "Roll the node pool back to the previous image.".into(),
                lead: "Pat Platform".into(),
                ..Default::default()
            },
            now,
        )
        .await?
        .maintenance;
        maintenances::transition(pool, &caller, m.id, Transition::Announce, "", now).await?;
    }
    let start = now + Duration::days(21);
    drills::create(
        pool,
        &caller,
        DrillForm {
            platform_id: platform,
            application_id: None,
            title: "Restore the payments database from backup".into(),
            goal: "Measure the time to recover and check that last night's backup is complete."
                .into(),
            scenario: "The primary database volume is lost at 10:00; on-call notices through \
                       the failing readiness probes."
                .into(),
            starting_state: "Production-like data in staging; nightly backups in place.".into(),
            participants: "Platform on-call, payments team".into(),
            observers: "Audrey Auditor".into(),
            leader: "Pat Platform".into(),
            starts_at: start,
            ends_at: start + Duration::hours(4),
            target_rpo_minutes: 1440,
            target_rto_minutes: 240,
            target_retention_days: 7,
        },
    )
    .await?;
    Ok(())
}

/// Loads the demo catalogue unless there is data already.
pub async fn load(pool: &PgPool) -> domain::Result<()> {
    let caller = Caller::system();
    if teams::list(pool, &caller, &ListQuery::default())
        .await?
        .total
        > 0
    {
        tracing::info!("demo data skipped: the catalogue is not empty");
        return Ok(());
    }
    let team = |slug: &str, name: &str, contact: &str, description: &str| TeamInput {
        slug: slug.into(),
        name: name.into(),
        description: description.into(),
        contact: contact.into(),
    };
    let payments = teams::create(
        pool,
        &caller,
        team(
            "payments",
            "Payments",
            "#payments-oncall",
            "Checkout, refunds and the ledger.",
        ),
    )
    .await?;
    let search = teams::create(
        pool,
        &caller,
        team(
            "search",
            "Search",
            "search@example.test",
            "Product search and recommendations.",
        ),
    )
    .await?;
    teams::create(
        pool,
        &caller,
        team(
            "platform",
            "Platform team",
            "#platform",
            "Runs the Kubernetes platforms.",
        ),
    )
    .await?;
    let core = platforms::create(
        pool,
        &caller,
        PlatformInput {
            slug: "core".into(),
            name: "Core Kubernetes".into(),
            description: "The shared multi-tenant platform in two availability zones.".into(),
        },
    )
    .await?;
    let env = |slug: &str, name: &str, position: i32, is_production: bool| EnvironmentInput {
        slug: slug.into(),
        name: name.into(),
        position,
        is_production,
    };
    let staging =
        environments::create(pool, &caller, core.id, env("staging", "Staging", 0, false)).await?;
    let production = environments::create(
        pool,
        &caller,
        core.id,
        env("production", "Production", 1, true),
    )
    .await?;
    let apps = [
        (
            &payments,
            "checkout",
            "Checkout",
            "The web checkout and its API.",
            true,
        ),
        (
            &payments,
            "ledger",
            "Ledger",
            "Double-entry bookkeeping service.",
            true,
        ),
        (
            &search,
            "search-api",
            "Search API",
            "Query endpoint behind the shop's search box.",
            true,
        ),
        (
            &search,
            "indexer",
            "Indexer",
            "Builds the search index from the catalogue feed.",
            false,
        ),
    ];
    for (team, slug, name, description, in_production) in apps {
        let mut placements = vec![Placement {
            environment_id: staging.id,
            namespace: format!("{}-{slug}", team.slug),
        }];
        if in_production {
            placements.push(Placement {
                environment_id: production.id,
                namespace: format!("{}-{slug}", team.slug),
            });
        }
        applications::create(
            pool,
            &caller,
            ApplicationInput {
                team_id: team.id,
                slug: slug.into(),
                name: name.into(),
                description: description.into(),
                placements,
            },
        )
        .await?;
    }
    tracing::info!("demo data loaded");
    Ok(())
}
