//! Applications: owned by a team, running in namespaces per environment. Team members manage
//! their own team's applications; platform engineers manage all of them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit;
use crate::auth::Action;
use crate::cache::{CachedPage, CatalogueCache};
use crate::db::{self, Caller, PgPool, Versioned};
use crate::error::{Error, Result};
use crate::model::{Application, ApplicationInput, ListQuery, Page, Placement};
use crate::{teams, validate};

struct Row {
    id: Uuid,
    team_id: Uuid,
    team_slug: String,
    slug: String,
    name: String,
    description: String,
    archived_at: Option<DateTime<Utc>>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn into_application(self, placements: Vec<Placement>) -> Application {
        Application {
            id: self.id,
            team_id: self.team_id,
            team_slug: self.team_slug,
            slug: self.slug,
            name: self.name,
            description: self.description,
            placements,
            archived_at: self.archived_at,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Filters specific to applications.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub team_id: Option<Uuid>,
    pub environment_id: Option<Uuid>,
}

/// Lists applications by name, optionally of one team or one environment.
#[tracing::instrument(skip_all)]
pub async fn list(
    pool: &PgPool,
    caller: &Caller,
    query: &ListQuery,
    filter: &Filter,
) -> Result<Page<Application>> {
    caller.actor.authorize(Action::Read)?;
    let (limit, offset) = query.limit_offset();
    let pattern = query.pattern();
    let mut tx = pool.begin().await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM applications a
           WHERE ($1 OR a.archived_at IS NULL)
             AND ($2::text IS NULL OR a.name ILIKE $2 OR a.slug ILIKE $2)
             AND ($3::uuid IS NULL OR a.team_id = $3)
             AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM application_namespaces n
                                             WHERE n.application_id = a.id AND n.environment_id = $4))"#,
        query.include_archived,
        pattern,
        filter.team_id,
        filter.environment_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT a.id, a.team_id, t.slug AS team_slug, a.slug, a.name, a.description, a.archived_at, a.version,
                  a.created_at, a.updated_at
           FROM applications a JOIN teams t ON t.id = a.team_id
           WHERE ($1 OR a.archived_at IS NULL)
             AND ($2::text IS NULL OR a.name ILIKE $2 OR a.slug ILIKE $2)
             AND ($3::uuid IS NULL OR a.team_id = $3)
             AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM application_namespaces n
                                             WHERE n.application_id = a.id AND n.environment_id = $4))
           ORDER BY a.name, a.id LIMIT $5 OFFSET $6"#,
        query.include_archived,
        pattern,
        filter.team_id,
        filter.environment_id,
        limit,
        offset,
    )
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut placements = placements_of(&mut tx, &ids).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let p = placements.remove(&r.id).unwrap_or_default();
            r.into_application(p)
        })
        .collect();
    Ok(Page {
        items,
        page: query.page.max(1),
        per_page: limit as u32,
        total,
    })
}

async fn placements_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Placement>>> {
    let rows = sqlx::query!(
        "SELECT application_id, environment_id, namespace FROM application_namespaces
         WHERE application_id = ANY($1) ORDER BY environment_id, namespace",
        ids
    )
    .fetch_all(conn)
    .await?;
    let mut map: HashMap<Uuid, Vec<Placement>> = HashMap::new();
    for r in rows {
        map.entry(r.application_id).or_default().push(Placement {
            environment_id: r.environment_id,
            namespace: r.namespace,
        });
    }
    Ok(map)
}

/// Reads one application.
pub async fn get(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<Application> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, id, false).await
}

async fn fetch(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Application> {
    let row = if lock {
        sqlx::query_as!(
            Row,
            r#"SELECT a.id, a.team_id, t.slug AS team_slug, a.slug, a.name, a.description, a.archived_at, a.version,
                      a.created_at, a.updated_at
               FROM applications a JOIN teams t ON t.id = a.team_id WHERE a.id = $1 FOR UPDATE OF a"#,
            id
        )
        .fetch_optional(&mut *conn)
        .await?
    } else {
        sqlx::query_as!(
            Row,
            r#"SELECT a.id, a.team_id, t.slug AS team_slug, a.slug, a.name, a.description, a.archived_at, a.version,
                      a.created_at, a.updated_at
               FROM applications a JOIN teams t ON t.id = a.team_id WHERE a.id = $1"#,
            id
        )
        .fetch_optional(&mut *conn)
        .await?
    };
    let row = row.ok_or_else(|| Error::not_found("application"))?;
    let placements = placements_of(conn, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(row.into_application(placements))
}

/// Checks the referenced team and environments exist and are active; returns the team's slug.
async fn check_references(conn: &mut PgConnection, input: &ApplicationInput) -> Result<String> {
    let team = teams::slug_of(conn, input.team_id).await?;
    let archived = sqlx::query_scalar!(
        "SELECT archived_at IS NOT NULL AS \"a!\" FROM teams WHERE id = $1",
        input.team_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if archived {
        return Err(Error::invalid("team_id", "refers to an archived team"));
    }
    let env_ids: Vec<Uuid> = input.placements.iter().map(|p| p.environment_id).collect();
    if !env_ids.is_empty() {
        let known = sqlx::query_scalar!(
            r#"SELECT count(DISTINCT id) AS "n!" FROM environments WHERE id = ANY($1) AND archived_at IS NULL"#,
            &env_ids
        )
        .fetch_one(&mut *conn)
        .await?;
        let mut distinct = env_ids.clone();
        distinct.sort();
        distinct.dedup();
        if known != distinct.len() as i64 {
            return Err(Error::invalid(
                "placements",
                "refers to an environment that does not exist or is archived",
            ));
        }
    }
    Ok(team)
}

async fn write_placements(
    conn: &mut PgConnection,
    id: Uuid,
    placements: &[Placement],
) -> Result<()> {
    sqlx::query!(
        "DELETE FROM application_namespaces WHERE application_id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    let envs: Vec<Uuid> = placements.iter().map(|p| p.environment_id).collect();
    let namespaces: Vec<String> = placements.iter().map(|p| p.namespace.clone()).collect();
    // Named here for a readable answer; the unique index decides when two edits race.
    let claimed = sqlx::query!(
        r#"SELECT n.namespace, e.name AS environment, a.slug AS application,
                  a.archived_at IS NOT NULL AS "archived!"
           FROM application_namespaces n
           JOIN unnest($1::uuid[], $2::text[]) AS x(e, ns) ON n.environment_id = x.e AND n.namespace = x.ns
           JOIN applications a ON a.id = n.application_id
           JOIN environments e ON e.id = n.environment_id
           WHERE n.application_id <> $3
           ORDER BY e.position, n.namespace
           LIMIT 1"#,
        &envs,
        &namespaces,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(c) = claimed {
        let archived = if c.archived { " (archived)" } else { "" };
        return Err(Error::invalid(
            "placements",
            format!(
                "namespace {} on {} belongs to application {}{archived}; a namespace belongs to one application",
                c.namespace, c.environment, c.application
            ),
        ));
    }
    sqlx::query!(
        "INSERT INTO application_namespaces (application_id, environment_id, namespace)
         SELECT $1, e, n FROM unnest($2::uuid[], $3::text[]) AS x(e, n)",
        id,
        &envs,
        &namespaces
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Registers an application for a team.
#[tracing::instrument(skip_all)]
pub async fn create(
    pool: &PgPool,
    caller: &Caller,
    mut input: ApplicationInput,
) -> Result<Application> {
    caller.actor.authorize(Action::Read)?;
    // Refused before the input is judged: whatever an auditor sends, the answer is no.
    caller.actor.refuse_read_only()?;
    validate::application(&mut input)?;
    let mut tx = pool.begin().await?;
    let team = check_references(&mut tx, &input).await?;
    caller
        .actor
        .authorize(Action::ManageApplication { team: &team })?;
    let id = sqlx::query_scalar!(
        "INSERT INTO applications (team_id, slug, name, description) VALUES ($1, $2, $3, $4) RETURNING id",
        input.team_id,
        input.slug,
        input.name,
        input.description,
    )
    .fetch_one(&mut *tx)
    .await?;
    write_placements(&mut tx, id, &input.placements).await?;
    let app = fetch(&mut tx, id, false).await?;
    audit::record(
        &mut tx,
        caller,
        "create",
        "application",
        &id.to_string(),
        None::<&Application>,
        Some(&app),
    )
    .await?;
    tx.commit().await?;
    Ok(app)
}

/// Edits an application if nobody changed it since `expected_version`. Moving it to another team
/// needs the right to manage applications of both teams.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    expected_version: i32,
    mut input: ApplicationInput,
) -> Result<Application> {
    caller.actor.authorize(Action::Read)?;
    // Refused before the input is judged: whatever an auditor sends, the answer is no.
    caller.actor.refuse_read_only()?;
    validate::application(&mut input)?;
    db::versioned_change(
        pool,
        caller,
        "application",
        "update",
        id,
        expected_version,
        async |conn| lock_managed(conn, caller, id).await,
        async |conn, _| {
            let team = check_references(conn, &input).await?;
            caller.actor.authorize(Action::ManageApplication { team: &team })?;
            sqlx::query!(
                "UPDATE applications SET team_id = $2, slug = $3, name = $4, description = $5, version = version + 1
         WHERE id = $1",
                id,
                input.team_id,
                input.slug,
                input.name,
                input.description,
            )
            .execute(&mut *conn)
            .await?;
            write_placements(conn, id, &input.placements).await?;
            fetch(conn, id, false).await
        },
    )
    .await
}

/// Locks an application the caller may manage (checked before anything else is revealed).
async fn lock_managed(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<Application> {
    let app = fetch(conn, id, true).await?;
    caller.actor.authorize(Action::ManageApplication {
        team: &app.team_slug,
    })?;
    Ok(app)
}

/// Archives (or restores) an application.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn set_archived(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    expected_version: i32,
    archived: bool,
) -> Result<Application> {
    caller.actor.authorize(Action::Read)?;
    let action = if archived { "archive" } else { "restore" };
    db::versioned_change(
        pool,
        caller,
        "application",
        action,
        id,
        expected_version,
        async |conn| lock_managed(conn, caller, id).await,
        async |conn, _| {
            sqlx::query!(
                "UPDATE applications SET archived_at = CASE WHEN $2 THEN coalesce(archived_at, now()) END, version = version + 1
         WHERE id = $1",
                id,
                archived,
            )
            .execute(&mut *conn)
            .await?;
            fetch(conn, id, false).await
        },
    )
    .await
}

impl Versioned for Application {
    fn version(&self) -> i32 {
        self.version
    }
}

/// The dashboard's counts. The parts everyone sees are computed once per data version and day
/// (audits become overdue at midnight) and shared by every caller; the audit excerpt and the
/// caller's own acknowledgements are added per caller.
pub async fn dashboard(
    pool: &PgPool,
    cache: &CatalogueCache,
    caller: &Caller,
    today: chrono::NaiveDate,
) -> Result<crate::model::Dashboard> {
    caller.actor.authorize(Action::Read)?;
    let key = (
        cache.version(pool).await?,
        i64::from(chrono::Datelike::num_days_from_ce(&today)),
    );
    let shared = match cache.memo::<crate::model::Dashboard>("dashboard", key) {
        Some(d) => d,
        None => {
            let mut d = counts(pool).await?;
            d.recent_changes = audit::recent(pool, 8).await?;
            let d = Arc::new(d);
            cache.put_memo("dashboard", key, d.clone());
            d
        }
    };
    let mut dashboard = (*shared).clone();
    if !caller.actor.may(Action::ReadAuditLog) {
        dashboard.recent_changes.clear();
    }
    if !caller.actor.teams.is_empty() {
        dashboard.pending_acknowledgements =
            crate::scope::store::pending_for_teams(pool, &caller.actor.teams).await?;
    }
    Ok(dashboard)
}

/// The catalogue's counts (the expensive part of the dashboard, cached per catalogue version).
async fn counts(pool: &PgPool) -> Result<crate::model::Dashboard> {
    let counts = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM teams WHERE archived_at IS NULL) AS "teams!",
             (SELECT count(*) FROM platforms WHERE archived_at IS NULL) AS "platforms!",
             (SELECT count(*) FROM environments WHERE archived_at IS NULL) AS "environments!",
             (SELECT count(*) FROM applications WHERE archived_at IS NULL) AS "applications!",
             (SELECT count(*) FROM applications a WHERE a.archived_at IS NULL AND NOT EXISTS (
                 SELECT 1 FROM application_namespaces n JOIN environments e ON e.id = n.environment_id
                 WHERE n.application_id = a.id AND e.is_production)) AS "without_prod!""#
    )
    .fetch_one(pool)
    .await?;
    let (overdue_audits, overdue_audit_list) = crate::scope::audits::overdue(pool, 5).await?;
    Ok(crate::model::Dashboard {
        overdue_audits,
        overdue_audit_list,
        pending_acknowledgements: vec![],
        teams: counts.teams,
        platforms: counts.platforms,
        environments: counts.environments,
        applications: counts.applications,
        applications_without_production: counts.without_prod,
        recent_changes: vec![],
    })
}

/// [`list`] through the replica's cache: the same answer, recomputed only when the catalogue
/// changed since it was cached.
pub async fn list_cached(
    pool: &PgPool,
    cache: &CatalogueCache,
    caller: &Caller,
    query: &ListQuery,
    filter: &Filter,
) -> Result<CachedPage> {
    caller.actor.authorize(Action::Read)?;
    let version = cache.version(pool).await?;
    let key = format!("{query:?}|{filter:?}");
    if let Some(page) = cache.page(&key, version) {
        return Ok(page);
    }
    let page = list(pool, caller, query, filter).await?;
    Ok(cache.put_page(key, version, page))
}
