//! A small, realistic data set for trying Demarc (`scripts/run --demo-data`). Loaded through the
//! domain operations, so it is validated and audited like any other change; skipped when the
//! catalogue already has teams.

use domain::db::{Caller, PgPool};
use domain::model::{
    ApplicationInput, EnvironmentInput, ListQuery, Placement, PlatformInput, TeamInput,
};
use domain::{applications, environments, platforms, teams};

/// Loads the demo data unless there is data already.
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
