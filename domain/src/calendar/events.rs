//! One calendar for everything that happens to a platform: plan windows, maintenances, DR drills,
//! audits and blackouts. The month grid, the agenda, REST and the ICS feeds all read [`collect`].
//! Also: the feed tokens, and the Kubernetes end-of-life status of every environment.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use super::ics::{self, EventStatus, FeedEvent, When};
use super::model::*;
use super::plans::Calendar;
use super::{eol, resolve_local};
use crate::audit;
use crate::auth::Action;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result};

/// Longest period one calendar request covers.
const MAX_RANGE_DAYS: i64 = 400;
/// What a feed publishes: the past quarter and the next year.
const FEED_PAST_DAYS: i64 = 92;
const FEED_AHEAD_DAYS: i64 = 366;

/// Which part of the catalogue a calendar covers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub platform_id: Option<Uuid>,
    /// Only these environments (None: all of the platform).
    pub environments: Option<HashSet<Uuid>>,
    /// Only drills of these applications, besides platform drills (None: every drill).
    pub applications: Option<HashSet<Uuid>>,
}

struct EnvInfo {
    slug: String,
    platform_id: Uuid,
    platform_slug: String,
    is_production: bool,
    position: i32,
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    resolve_local(chrono_tz::UTC, d.and_time(NaiveTime::MIN))
}

/// The midnight (UTC) that ends the day `d`: the end of an all-day entry.
fn day_after(d: NaiveDate) -> DateTime<Utc> {
    d.succ_opt().map_or(DateTime::<Utc>::MAX_UTC, midnight)
}

/// Every entry of the scope that overlaps `[from, to)`, by start.
pub(crate) async fn collect(
    conn: &mut PgConnection,
    scope: &Scope,
    kinds: &[EventKind],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CalendarEvent>> {
    let wants = |k: EventKind| kinds.is_empty() || kinds.contains(&k);
    let envs: HashMap<Uuid, EnvInfo> = sqlx::query!(
        "SELECT e.id, e.slug, e.platform_id, p.slug AS platform_slug, e.is_production, e.position
         FROM environments e JOIN platforms p ON p.id = e.platform_id
         WHERE e.archived_at IS NULL AND p.archived_at IS NULL
           AND ($1::uuid IS NULL OR e.platform_id = $1)",
        scope.platform_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .filter(|r| {
        scope
            .environments
            .as_ref()
            .is_none_or(|s| s.contains(&r.id))
    })
    .map(|r| {
        (
            r.id,
            EnvInfo {
                slug: r.slug,
                platform_id: r.platform_id,
                platform_slug: r.platform_slug,
                is_production: r.is_production,
                position: r.position,
            },
        )
    })
    .collect();
    let mut out = Vec::new();

    let maintenances = if wants(EventKind::Maintenance) || wants(EventKind::Window) {
        super::maintenances::list_in(conn, scope.platform_id, from, to).await?
    } else {
        Vec::new()
    };
    let taken: HashSet<(Uuid, NaiveDate)> = maintenances
        .iter()
        .filter(|m| m.state != MaintenanceState::Cancelled)
        .filter_map(|m| m.window_date.map(|d| (m.environment_id, d)))
        .collect();

    if wants(EventKind::Window) {
        let cal = Calendar::load(conn, scope.platform_id).await?;
        for (env_id, env) in &envs {
            let Some(plan) = cal.plans.get(env_id) else {
                continue;
            };
            let Some(computed) = cal.compute(*env_id, from, to) else {
                continue;
            };
            for o in computed.schedule.occurrences {
                if taken.contains(&(*env_id, o.local_date)) {
                    continue;
                }
                let detail = match (&o.moved_by, o.follows) {
                    (Some(reason), _) if o.local_date != o.nominal_date => format!(
                        "Moved from {} by the blackout “{reason}”.",
                        super::human_date(o.nominal_date)
                    ),
                    (_, Some(lead)) => format!(
                        "Follows the window of {} on {}.",
                        cal.leader_slug(*env_id).unwrap_or_default(),
                        super::human_date(lead)
                    ),
                    _ => String::new(),
                };
                out.push(CalendarEvent {
                    uid: format!("window-{env_id}-{}@demarc", o.series_date),
                    kind: EventKind::Window,
                    title: format!("{} maintenance window", env.slug),
                    starts_at: o.start_utc,
                    ends_at: o.end_utc,
                    all_day: None,
                    local_date: o.local_date,
                    platform_slug: env.platform_slug.clone(),
                    environment_id: Some(*env_id),
                    environment_slug: Some(env.slug.clone()),
                    is_production: env.is_production,
                    follows: o.follows,
                    follows_environment: o.follows.and(cal.leader_slug(*env_id).map(str::to_owned)),
                    category: None,
                    state: None,
                    cancelled: false,
                    link: None,
                    detail,
                    sequence: i64::from(plan.revision),
                    updated_at: plan.updated_at,
                });
            }
        }
    }

    if wants(EventKind::Maintenance) {
        // The earlier environment's maintenance each one repeats: its environment and day.
        let mut repeated: HashMap<Uuid, (String, NaiveDate)> = maintenances
            .iter()
            .map(|m| {
                (
                    m.id,
                    (
                        m.environment_slug.clone(),
                        m.window_date.unwrap_or(m.starts_at.date_naive()),
                    ),
                )
            })
            .collect();
        let missing: Vec<Uuid> = maintenances
            .iter()
            .filter_map(|m| m.staging_maintenance_id)
            .filter(|id| !repeated.contains_key(id))
            .collect();
        if !missing.is_empty() {
            for m in super::maintenances::by_ids(conn, &missing).await? {
                repeated.insert(
                    m.id,
                    (
                        m.environment_slug,
                        m.window_date.unwrap_or(m.starts_at.date_naive()),
                    ),
                );
            }
        }
        for m in maintenances {
            let lead = m.staging_maintenance_id.and_then(|id| repeated.get(&id));
            let Some(env) = envs.get(&m.environment_id) else {
                continue;
            };
            let mut detail = String::new();
            if !m.kubernetes_to.is_empty() {
                detail.push_str(&format!(
                    "Kubernetes {} → {}. ",
                    if m.kubernetes_from.is_empty() {
                        "?"
                    } else {
                        &m.kubernetes_from
                    },
                    m.kubernetes_to
                ));
            }
            if !m.expected_impact.is_empty() {
                detail.push_str(&format!("Impact: {} ", m.expected_impact));
            }
            detail.push_str(&format!("Led by {}.", m.lead));
            out.push(CalendarEvent {
                uid: format!("maintenance-{}@demarc", m.id),
                kind: EventKind::Maintenance,
                title: format!("{}: {}", m.category.label(), m.title),
                starts_at: m.starts_at,
                ends_at: m.ends_at,
                all_day: None,
                local_date: m.window_date.unwrap_or(m.starts_at.date_naive()),
                platform_slug: env.platform_slug.clone(),
                environment_id: Some(m.environment_id),
                environment_slug: Some(env.slug.clone()),
                is_production: env.is_production,
                follows: lead.map(|l| l.1),
                follows_environment: lead.map(|l| l.0.clone()),
                category: Some(m.category),
                state: Some(m.state.as_str().to_owned()),
                cancelled: m.state == MaintenanceState::Cancelled,
                link: Some(format!("/calendar/maintenances/{}", m.id)),
                detail,
                sequence: i64::from(m.sequence),
                updated_at: m.updated_at,
            });
        }
    }

    let platforms: HashMap<Uuid, String> = sqlx::query!(
        "SELECT id, slug FROM platforms WHERE $1::uuid IS NULL OR id = $1",
        scope.platform_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.slug))
    .collect();

    // The platforms the scope's environments are on, when the scope is narrower than a platform
    // (an environment, a team): their drills, platform-wide blackouts and provider audits
    // concern it, other platforms' do not.
    let scope_platforms: Option<HashSet<Uuid>> = scope
        .environments
        .as_ref()
        .map(|_| envs.values().map(|e| e.platform_id).collect());
    let on_scope_platform = |platform: &Uuid| {
        scope_platforms
            .as_ref()
            .is_none_or(|p| p.contains(platform))
    };

    if wants(EventKind::Drill) {
        for d in super::drills::load(conn, None, scope.platform_id, Some(from), Some(to)).await? {
            // A team's own application's drill always; other drills when on the scope's
            // platforms (and, for a team, not another team's application).
            let shown = match (&scope.applications, d.application_id) {
                (Some(apps), Some(app)) => apps.contains(&app),
                _ => on_scope_platform(&d.platform_id),
            };
            if !shown {
                continue;
            }
            out.push(CalendarEvent {
                uid: format!("drill-{}@demarc", d.id),
                kind: EventKind::Drill,
                title: format!("DR drill: {}", d.title),
                starts_at: d.starts_at,
                ends_at: d.ends_at,
                all_day: None,
                local_date: d.starts_at.date_naive(),
                platform_slug: d.platform_slug.clone(),
                environment_id: None,
                environment_slug: None,
                is_production: false,
                follows: None,
                follows_environment: None,
                category: None,
                state: Some(d.state.clone()),
                cancelled: d.state == "cancelled",
                link: Some(format!("/calendar/drills/{}", d.id)),
                detail: format!(
                    "{} Targets: RPO {} min, RTO {} min. Led by {}.",
                    d.goal, d.target_rpo_minutes, d.target_rto_minutes, d.leader
                ),
                sequence: i64::from(d.version),
                updated_at: d.updated_at,
            });
        }
    }

    if wants(EventKind::Audit) {
        // `in_scope`: an application audit of an application that runs in one of the scope's
        // environments.
        let scope_envs: Vec<Uuid> = envs.keys().copied().collect();
        let audits = sqlx::query!(
            r#"SELECT a.id, a.platform_id, a.kind, a.title, a.due_on, a.status, a.version,
                      a.updated_at, a.application_id,
                      EXISTS (SELECT 1 FROM application_namespaces n
                              WHERE n.application_id = a.application_id
                                AND n.environment_id = ANY($4)) AS "in_scope!"
               FROM scope_audits a
               WHERE ($1::uuid IS NULL OR a.platform_id = $1) AND a.due_on >= $2 AND a.due_on < $3"#,
            scope.platform_id,
            from.date_naive(),
            to.date_naive().succ_opt().unwrap_or(NaiveDate::MAX),
            &scope_envs,
        )
        .fetch_all(&mut *conn)
        .await?;
        for a in audits {
            let shown = match (&scope.environments, &scope.applications, a.application_id) {
                // The whole catalogue or a whole platform: every audit.
                (None, None, _) => true,
                // A team: its own applications' audits, not other teams'.
                (_, Some(apps), Some(app)) => apps.contains(&app),
                // An environment: audits of the applications that run in it.
                (_, None, Some(_)) => a.in_scope,
                // A provider audit: when the scope covers an environment of its platform.
                (_, _, None) => on_scope_platform(&a.platform_id),
            };
            if !shown {
                continue;
            }
            out.push(CalendarEvent {
                uid: format!("audit-{}@demarc", a.id),
                kind: EventKind::Audit,
                title: format!(
                    "{} audit: {}",
                    if a.kind == "provider" {
                        "Provider"
                    } else {
                        "Application"
                    },
                    a.title
                ),
                starts_at: midnight(a.due_on),
                ends_at: day_after(a.due_on),
                all_day: Some((a.due_on, a.due_on)),
                local_date: a.due_on,
                platform_slug: platforms.get(&a.platform_id).cloned().unwrap_or_default(),
                environment_id: None,
                environment_slug: None,
                is_production: false,
                follows: None,
                follows_environment: None,
                category: None,
                state: Some(a.status.clone()),
                cancelled: a.status == "cancelled",
                link: Some("/scope".into()),
                detail: String::new(),
                sequence: i64::from(a.version),
                updated_at: a.updated_at,
            });
        }
    }

    if wants(EventKind::Blackout) {
        for b in super::plans::load_blackouts(conn, scope.platform_id).await? {
            let concerns_scope = match b.environment_id {
                Some(env) => envs.contains_key(&env),
                None => on_scope_platform(&b.platform_id),
            };
            if !concerns_scope {
                continue;
            }
            let start = midnight(b.first_day);
            let end = day_after(b.last_day);
            if end <= from || start >= to {
                continue;
            }
            out.push(CalendarEvent {
                uid: format!("blackout-{}@demarc", b.id),
                kind: EventKind::Blackout,
                title: format!(
                    "Blackout{}: {}",
                    b.environment_slug
                        .as_ref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default(),
                    b.reason
                ),
                starts_at: start,
                ends_at: end,
                all_day: Some((b.first_day, b.last_day)),
                local_date: b.first_day,
                platform_slug: platforms.get(&b.platform_id).cloned().unwrap_or_default(),
                environment_id: b.environment_id,
                environment_slug: b.environment_slug.clone(),
                is_production: false,
                follows: None,
                follows_environment: None,
                category: None,
                state: None,
                cancelled: false,
                link: None,
                detail: String::new(),
                sequence: 0,
                updated_at: b.created_at,
            });
        }
    }

    let position = |e: &CalendarEvent| {
        e.environment_id
            .and_then(|id| envs.get(&id))
            .map(|e| (e.platform_id, e.position))
    };
    out.sort_by(|a, b| (a.starts_at, position(a), &a.uid).cmp(&(b.starts_at, position(b), &b.uid)));
    Ok(out)
}

/// The scope a filter means: a platform slug, an environment, a team's environments and drills.
async fn scope_of(conn: &mut PgConnection, filter: &CalendarFilter) -> Result<Scope> {
    let mut scope = Scope::default();
    if let Some(slug) = filter.platform.as_deref().filter(|s| !s.is_empty()) {
        scope.platform_id = Some(
            sqlx::query_scalar!("SELECT id FROM platforms WHERE slug = $1", slug)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| Error::invalid("platform", "no such platform"))?,
        );
    }
    if let Some(env) = filter.environment {
        scope.environments = Some(HashSet::from([env]));
    }
    if let Some(slug) = filter.team.as_deref().filter(|s| !s.is_empty()) {
        let team_id = sqlx::query_scalar!("SELECT id FROM teams WHERE slug = $1", slug)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| Error::invalid("team", "no such team"))?;
        team_scope(conn, team_id, &mut scope).await?;
    }
    Ok(scope)
}

async fn team_scope(conn: &mut PgConnection, team_id: Uuid, scope: &mut Scope) -> Result<()> {
    let envs: HashSet<Uuid> = sqlx::query_scalar!(
        "SELECT DISTINCT n.environment_id FROM application_namespaces n
         JOIN applications a ON a.id = n.application_id
         WHERE a.team_id = $1 AND a.archived_at IS NULL",
        team_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let apps: HashSet<Uuid> =
        sqlx::query_scalar!("SELECT id FROM applications WHERE team_id = $1", team_id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    scope.environments = Some(match scope.environments.take() {
        Some(only) => only.intersection(&envs).copied().collect(),
        None => envs,
    });
    scope.applications = Some(apps);
    Ok(())
}

/// The first day of the month `today` is in, and six weeks on: what the grid shows by default.
pub fn default_range(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = today.with_day(1).unwrap_or(today);
    (first, first + Duration::days(42))
}

/// Whether an entry sits on one of the days `first..end` (`end` excluded), as the month grid and
/// the agenda place it: a timed entry on its local day (a window's day in its environment's
/// zone), a whole-day entry on every day of its range.
pub fn on_days(e: &CalendarEvent, first: NaiveDate, end: NaiveDate) -> bool {
    match e.all_day {
        Some((a, b)) => a < end && b >= first,
        None => first <= e.local_date && e.local_date < end,
    }
}

/// The instants to read so that every entry whose local day is one of `first..end` is found:
/// a day more on each side, since a local day starts up to 14 hours before and ends up to 12
/// hours after the UTC day of the same date (a Sunday 22:00 window in New York opens on Monday
/// in UTC; a Monday 02:00 window in Tokyo on Sunday).
fn instants_for_days(first: NaiveDate, end: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        first.pred_opt().map_or(DateTime::<Utc>::MIN_UTC, midnight),
        day_after(end),
    )
}

/// The calendar's entries for a filter: those whose local day (or whole-day range) falls on
/// the days `from..to` (`to` excluded).
#[tracing::instrument(skip_all)]
pub async fn events(
    pool: &PgPool,
    caller: &Caller,
    filter: &CalendarFilter,
    now: DateTime<Utc>,
) -> Result<Vec<CalendarEvent>> {
    caller.actor.authorize(Action::Read)?;
    let (dfrom, dto) = default_range(now.date_naive());
    let from = filter.from.unwrap_or(dfrom);
    let to = filter.to.unwrap_or(dto);
    let mut p = crate::validate::Problems::default();
    crate::validate::date(&mut p, "from", from);
    crate::validate::date(&mut p, "to", to);
    p.finish()?;
    if to <= from {
        return Err(Error::invalid("to", "must come after from"));
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(Error::invalid(
            "to",
            format!("a calendar request covers at most {MAX_RANGE_DAYS} days"),
        ));
    }
    let mut conn = pool.acquire().await?;
    let scope = scope_of(&mut conn, filter).await?;
    let (read_from, read_to) = instants_for_days(from, to);
    let mut entries = collect(&mut conn, &scope, &filter.kinds, read_from, read_to).await?;
    entries.retain(|e| on_days(e, from, to));
    Ok(entries)
}

// ------------------------------------------------------------------------------------------------
// Feeds
// ------------------------------------------------------------------------------------------------

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

async fn scope_name(
    conn: &mut PgConnection,
    scope: FeedScope,
    id: Uuid,
) -> Result<(String, Option<String>)> {
    let row = match scope {
        FeedScope::Environment => sqlx::query!(
            "SELECT p.name || ' / ' || e.name AS \"name!\", NULL::text AS team
             FROM environments e JOIN platforms p ON p.id = e.platform_id WHERE e.id = $1",
            id
        )
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| (r.name, r.team)),
        FeedScope::Platform => sqlx::query!(
            "SELECT name, NULL::text AS team FROM platforms WHERE id = $1",
            id
        )
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| (r.name, r.team)),
        FeedScope::Team => sqlx::query!("SELECT name, slug FROM teams WHERE id = $1", id)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| (r.name, Some(r.slug))),
    };
    row.ok_or_else(|| Error::invalid("scope_id", format!("no such {}", scope.as_str())))
}

/// The feeds that exist (tokens are never shown again).
pub async fn feeds(pool: &PgPool, caller: &Caller) -> Result<Vec<Feed>> {
    caller.actor.authorize(Action::Read)?;
    // The name of each feed's environment, platform or team, in the same query.
    let rows = sqlx::query!(
        r#"SELECT f.id, f.scope, f.scope_id, f.created_by, f.created_at, f.rotated_at,
                  COALESCE(ep.name || ' / ' || e.name, p.name, t.name, '') AS "name!"
           FROM calendar_feeds f
           LEFT JOIN environments e ON f.scope = 'environment' AND e.id = f.scope_id
           LEFT JOIN platforms ep ON ep.id = e.platform_id
           LEFT JOIN platforms p ON f.scope = 'platform' AND p.id = f.scope_id
           LEFT JOIN teams t ON f.scope = 'team' AND t.id = f.scope_id
           ORDER BY f.scope, f.created_at"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Feed {
            id: r.id,
            scope: FeedScope::parse(&r.scope).unwrap_or(FeedScope::Platform),
            scope_id: r.scope_id,
            name: r.name,
            created_by: r.created_by,
            created_at: r.created_at,
            rotated_at: r.rotated_at,
        })
        .collect())
}

/// Makes the feed of a scope, or rotates its token when it exists: the old URL stops working.
/// The returned path is shown once.
#[tracing::instrument(skip_all)]
pub async fn make_feed(
    pool: &PgPool,
    caller: &Caller,
    form: FeedForm,
    now: DateTime<Utc>,
) -> Result<FeedSecret> {
    let mut tx = pool.begin().await?;
    let (name, team) = scope_name(&mut tx, form.scope, form.scope_id).await?;
    match &team {
        Some(team) => caller
            .actor
            .authorize(Action::WorkOnTeamCalendar { team })?,
        None => caller.actor.authorize(Action::ManageCalendar)?,
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let row = sqlx::query!(
        "INSERT INTO calendar_feeds (scope, scope_id, token_hash, created_by)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (scope, scope_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, rotated_at = $5
         RETURNING id, created_by, created_at, rotated_at",
        form.scope.as_str(),
        form.scope_id,
        hash(&token),
        caller.actor.name,
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    let feed = Feed {
        id: row.id,
        scope: form.scope,
        scope_id: form.scope_id,
        name,
        created_by: row.created_by,
        created_at: row.created_at,
        rotated_at: row.rotated_at,
    };
    audit::record(
        &mut tx,
        caller,
        if feed.rotated_at.is_some() {
            "calendar_feed.rotate"
        } else {
            "calendar_feed.create"
        },
        "calendar_feed",
        &feed.id.to_string(),
        None::<&()>,
        Some(&feed),
    )
    .await?;
    tx.commit().await?;
    Ok(FeedSecret {
        feed,
        path: format!("/ics/{token}.ics"),
    })
}

/// Removes a feed: its URL stops working.
pub async fn remove_feed(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "SELECT scope, scope_id FROM calendar_feeds WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("feed"))?;
    let scope = FeedScope::parse(&row.scope).unwrap_or(FeedScope::Platform);
    let (_, team) = scope_name(&mut tx, scope, row.scope_id).await?;
    match &team {
        Some(team) => caller
            .actor
            .authorize(Action::WorkOnTeamCalendar { team })?,
        None => caller.actor.authorize(Action::ManageCalendar)?,
    }
    sqlx::query!("DELETE FROM calendar_feeds WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        caller,
        "calendar_feed.remove",
        "calendar_feed",
        &id.to_string(),
        Some(&serde_json::json!({ "scope": row.scope, "scope_id": row.scope_id })),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The event as a feed entry.
pub fn feed_event(e: &CalendarEvent, base_url: &str) -> FeedEvent {
    let mut description = e.detail.clone();
    if let Some(env) = &e.environment_slug {
        description = format!("{} / {env}. {description}", e.platform_slug);
    }
    FeedEvent {
        uid: e.uid.clone(),
        sequence: e.sequence,
        status: if e.cancelled {
            EventStatus::Cancelled
        } else if e.kind == EventKind::Window
            // Planned but not announced yet: it may still move.
            || (e.kind == EventKind::Maintenance && e.state.as_deref() == Some("planned"))
        {
            EventStatus::Tentative
        } else {
            EventStatus::Confirmed
        },
        when: match e.all_day {
            Some((first, last)) => When::AllDay { first, last },
            None => When::Timed {
                start: e.starts_at,
                end: e.ends_at,
            },
        },
        summary: e.title.clone(),
        description: description.trim().to_owned(),
        location: e
            .environment_slug
            .as_ref()
            .map(|env| format!("{} / {env}", e.platform_slug)),
        url: e.link.as_ref().map(|l| format!("{base_url}{l}")),
        categories: vec![e.kind.label().to_owned()],
        last_modified: e.updated_at,
    }
}

/// The ICS text of the feed a token opens, and the feed's name; NotFound for an unknown token.
#[tracing::instrument(skip_all)]
pub async fn render_feed(
    pool: &PgPool,
    token: &str,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    if token.is_empty() || token.len() > 100 {
        return Err(Error::not_found("feed"));
    }
    let row = sqlx::query!(
        "SELECT scope, scope_id FROM calendar_feeds WHERE token_hash = $1",
        hash(token)
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::not_found("feed"))?;
    let mut conn = pool.acquire().await?;
    let kind = FeedScope::parse(&row.scope).unwrap_or(FeedScope::Platform);
    let (name, _) = scope_name(&mut conn, kind, row.scope_id).await?;
    let mut scope = Scope::default();
    match kind {
        FeedScope::Platform => scope.platform_id = Some(row.scope_id),
        FeedScope::Environment => {
            scope.platform_id = Some(
                sqlx::query_scalar!(
                    "SELECT platform_id FROM environments WHERE id = $1",
                    row.scope_id
                )
                .fetch_one(&mut *conn)
                .await?,
            );
            scope.environments = Some(HashSet::from([row.scope_id]));
        }
        FeedScope::Team => team_scope(&mut conn, row.scope_id, &mut scope).await?,
    }
    let events = collect(
        &mut conn,
        &scope,
        &[],
        now - Duration::days(FEED_PAST_DAYS),
        now + Duration::days(FEED_AHEAD_DAYS),
    )
    .await?;
    let entries: Vec<FeedEvent> = events.iter().map(|e| feed_event(e, base_url)).collect();
    Ok(ics::render(&format!("Demarc: {name}"), &entries, now))
}

// ------------------------------------------------------------------------------------------------
// Kubernetes end of life
// ------------------------------------------------------------------------------------------------

/// Every active environment's end-of-life status, from the version its cluster reported at the
/// last connection test.
pub async fn end_of_life(
    pool: &PgPool,
    caller: &Caller,
    today: NaiveDate,
) -> Result<Vec<EnvironmentEol>> {
    caller.actor.authorize(Action::Read)?;
    let rows = sqlx::query!(
        r#"SELECT e.id, e.slug, p.slug AS platform_slug, c.last_server_version AS "version?"
           FROM environments e JOIN platforms p ON p.id = e.platform_id
           LEFT JOIN cluster_connections c ON c.environment_id = e.id
           WHERE e.archived_at IS NULL AND p.archived_at IS NULL
           ORDER BY p.slug, e.position"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (minor, end, days, level, message) = match &r.version {
                Some(v) => {
                    let s = eol::status(v, today);
                    (
                        s.minor.map(|(a, b)| format!("{a}.{b}")),
                        s.end_of_life,
                        s.days_left,
                        serde_json::to_value(s.level)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_else(|| "unknown".into()),
                        s.message,
                    )
                }
                None => (
                    None,
                    None,
                    None,
                    "unknown".to_owned(),
                    "No cluster version known yet: test the environment's cluster connection."
                        .to_owned(),
                ),
            };
            EnvironmentEol {
                environment_id: r.id,
                environment_slug: r.slug,
                platform_slug: r.platform_slug,
                server_version: r.version,
                minor,
                end_of_life: end,
                days_left: days,
                level,
                message,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A window of `zone` opening at `hour:minute` local time on `day`.
    fn window(zone: chrono_tz::Tz, day: NaiveDate, hour: u32, minute: u32) -> CalendarEvent {
        let starts_at = resolve_local(zone, day.and_hms_opt(hour, minute, 0).unwrap());
        CalendarEvent {
            uid: format!("window-{day}@demarc"),
            kind: EventKind::Window,
            title: "production maintenance window".into(),
            starts_at,
            ends_at: starts_at + Duration::hours(4),
            all_day: None,
            local_date: day,
            platform_slug: "core".into(),
            environment_id: None,
            environment_slug: Some("production".into()),
            is_production: true,
            follows: None,
            follows_environment: None,
            category: None,
            state: None,
            cancelled: false,
            link: None,
            detail: String::new(),
            sequence: 0,
            updated_at: starts_at,
        }
    }

    /// Whether a request for the days `first..end` reads the entry and keeps it.
    fn shown(e: &CalendarEvent, first: NaiveDate, end: NaiveDate) -> bool {
        let (from, to) = instants_for_days(first, end);
        let read = e.ends_at > from && e.starts_at < to;
        read && on_days(e, first, end)
    }

    #[test]
    fn a_window_shows_on_its_local_day_when_it_opens_on_another_day_in_utc() {
        // January 2027's grid runs Mon 28 Dec to Sun 31 Jan; February's starts Mon 1 Feb.
        let (january, february) = (
            (d(2026, 12, 28), d(2027, 2, 1)),
            (d(2027, 2, 1), d(2027, 3, 8)),
        );
        // Sunday 22:00 in New York is Monday 03:00 UTC: in January's grid, not February's.
        let new_york = window(chrono_tz::America::New_York, d(2027, 1, 31), 22, 0);
        assert_eq!(new_york.starts_at.date_naive(), d(2027, 2, 1));
        assert!(shown(&new_york, january.0, january.1));
        assert!(!shown(&new_york, february.0, february.1));
        // Monday 02:00 in Tokyo is Sunday 17:00 UTC: in February's grid, not January's.
        let tokyo = window(chrono_tz::Asia::Tokyo, d(2027, 2, 1), 2, 0);
        assert_eq!(tokyo.starts_at.date_naive(), d(2027, 1, 31));
        assert!(shown(&tokyo, february.0, february.1));
        assert!(!shown(&tokyo, january.0, january.1));
        // The farthest zones, at the edges of the range's first and last day.
        for (zone, day, hour, minute) in [
            (chrono_tz::Pacific::Kiritimati, january.0, 0, 0),
            (chrono_tz::Pacific::Kiritimati, d(2027, 1, 31), 23, 59),
            (chrono_tz::Etc::GMTPlus12, january.0, 0, 0),
            (chrono_tz::Etc::GMTPlus12, d(2027, 1, 31), 23, 59),
        ] {
            let w = window(zone, day, hour, minute);
            assert!(
                shown(&w, january.0, january.1),
                "{zone} {day} {hour}:{minute}"
            );
            assert!(!shown(&w, february.0, february.1), "{zone} {day}");
        }
    }

    #[test]
    fn a_whole_day_entry_shows_on_every_day_of_its_range_in_the_request() {
        let mut blackout = window(chrono_tz::UTC, d(2027, 1, 30), 0, 0);
        blackout.kind = EventKind::Blackout;
        blackout.all_day = Some((d(2027, 1, 30), d(2027, 2, 2)));
        assert!(on_days(&blackout, d(2026, 12, 28), d(2027, 2, 1)));
        assert!(on_days(&blackout, d(2027, 2, 1), d(2027, 3, 8)));
        assert!(!on_days(&blackout, d(2027, 2, 3), d(2027, 3, 8)));
        assert!(!on_days(&blackout, d(2027, 1, 1), d(2027, 1, 30)));
    }
}
