//! Planned maintenances: the rules that decide whether one may be planned in a window, their
//! lifecycle (planned -> announced -> in progress -> completed, or cancelled / rolled back),
//! retrospectives with action items, and acknowledgements by application teams.
//!
//! Rules, checked on every create and change:
//! * A security patch, minor or major update takes one of the environment's plan windows, of a
//!   kind the plan allows, that has not started yet.
//! * A major update needs the platform's notice (default 30 days) before it starts; below 60 days
//!   Demarc warns.
//! * An environment that follows another (production after staging), or a production environment
//!   with an earlier one, receives only changes the earlier environment received in an earlier
//!   window, at least the plan's soak period (in working days) after it: the maintenance names
//!   the one it repeats.
//! * A Kubernetes upgrade must land before the running minor's end of life; otherwise Demarc names
//!   the last window still in time (an emergency is exempt: it is the way out when none is left).
//!   It repeats that change exactly: the same category, Kubernetes versions, node image and
//!   components.
//! * Starting such a maintenance needs the earlier environment's maintenance to have completed
//!   (not cancelled, rolled back or still open) and still to carry the same change.
//! * A maintenance starts at the earliest shortly before its window opens.
//! * Every maintenance but an emergency is announced before it starts, so the teams hear of it
//!   and get their reminders.
//! * An emergency skips notice, windows and skew, but needs a justification and a retrospective;
//!   it may start at any time, announced or not.
//! * Every maintenance but an emergency says what it changes; every one carries a contingency
//!   plan.
//! * No maintenance but an emergency is announced or started while a blackout covers its window.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::*;
use super::notices::{self, Event};
use super::plans::{Calendar, day, load_settings};
use super::{eol, human_date, rules};
use crate::audit;
use crate::auth::Action;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result};
use crate::validate::Problems;

/// Longest emergency window, in hours.
const MAX_EMERGENCY_HOURS: i64 = 72;
/// Longest free text.
const MAX_TEXT: usize = 4000;

struct Row {
    id: Uuid,
    environment_id: Uuid,
    environment_slug: String,
    environment_name: String,
    is_production: bool,
    platform_id: Uuid,
    platform_slug: String,
    platform_name: String,
    category: String,
    title: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    window_date: Option<NaiveDate>,
    kubernetes_from: String,
    kubernetes_to: String,
    node_image: String,
    components: String,
    description: String,
    expected_impact: String,
    contingency_plan: String,
    lead: String,
    justification: String,
    staging_maintenance_id: Option<Uuid>,
    state: String,
    announced_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    cancel_reason: String,
    went_well: Option<String>,
    to_improve: Option<String>,
    retrospective_at: Option<DateTime<Utc>>,
    sequence: i32,
    version: i32,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn into_model(self, items: Vec<ActionItem>) -> Maintenance {
        let state = MaintenanceState::parse(&self.state).unwrap_or(MaintenanceState::Planned);
        let retrospective = self.retrospective_at.map(|at| Retrospective {
            went_well: self.went_well.unwrap_or_default(),
            to_improve: self.to_improve.unwrap_or_default(),
            written_at: Some(at),
            action_items: items,
        });
        Maintenance {
            id: self.id,
            environment_id: self.environment_id,
            environment_slug: self.environment_slug,
            environment_name: self.environment_name,
            is_production: self.is_production,
            platform_id: self.platform_id,
            platform_slug: self.platform_slug,
            platform_name: self.platform_name,
            category: Category::parse(&self.category).unwrap_or(Category::Minor),
            title: self.title,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            window_date: self.window_date,
            kubernetes_from: self.kubernetes_from,
            kubernetes_to: self.kubernetes_to,
            node_image: self.node_image,
            components: self.components,
            description: self.description,
            expected_impact: self.expected_impact,
            contingency_plan: self.contingency_plan,
            lead: self.lead,
            justification: self.justification,
            staging_maintenance_id: self.staging_maintenance_id,
            state,
            announced_at: self.announced_at,
            started_at: self.started_at,
            ended_at: self.ended_at,
            cancel_reason: self.cancel_reason,
            retrospective_due: state.is_ended() && retrospective.is_none(),
            retrospective,
            sequence: self.sequence,
            version: self.version,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Which maintenances to list.
#[derive(Debug, Clone, Default)]
pub struct MaintenanceQuery {
    pub platform_id: Option<Uuid>,
    pub environment_id: Option<Uuid>,
    /// Only those that end after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only those that start before this instant.
    pub to: Option<DateTime<Utc>>,
}

async fn load(
    conn: &mut PgConnection,
    ids: Option<&[Uuid]>,
    q: &MaintenanceQuery,
) -> Result<Vec<Maintenance>> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT m.id, m.environment_id, e.slug AS environment_slug, e.name AS environment_name,
                  e.is_production, e.platform_id, p.slug AS platform_slug, p.name AS platform_name,
                  m.category, m.title, m.starts_at, m.ends_at, m.window_date, m.kubernetes_from,
                  m.kubernetes_to, m.node_image, m.components, m.description, m.expected_impact,
                  m.contingency_plan, m.lead, m.justification, m.staging_maintenance_id, m.state,
                  m.announced_at, m.started_at, m.ended_at, m.cancel_reason, m.went_well,
                  m.to_improve, m.retrospective_at, m.sequence, m.version, m.created_by,
                  m.created_at, m.updated_at
           FROM maintenances m
           JOIN environments e ON e.id = m.environment_id
           JOIN platforms p ON p.id = e.platform_id
           WHERE ($1::uuid[] IS NULL OR m.id = ANY($1))
             AND ($2::uuid IS NULL OR e.platform_id = $2)
             AND ($3::uuid IS NULL OR m.environment_id = $3)
             AND ($4::timestamptz IS NULL OR m.ends_at > $4)
             AND ($5::timestamptz IS NULL OR m.starts_at < $5)
           ORDER BY m.starts_at, e.position, m.id"#,
        ids,
        q.platform_id,
        q.environment_id,
        q.from,
        q.to,
    )
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut items = action_items_of(conn, &ids, &[]).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = items
                .extract_if(.., |i| i.maintenance_id == Some(r.id))
                .collect();
            r.into_model(mine)
        })
        .collect())
}

/// Which action items to read.
#[derive(Default)]
struct ItemQuery<'a> {
    /// Only this one.
    id: Option<Uuid>,
    /// Only those of these maintenances or drills.
    sources: Option<(&'a [Uuid], &'a [Uuid])>,
    /// Only those not done yet.
    open: bool,
    /// At most this many (the first by due date).
    limit: Option<i64>,
}

/// The one reading of action items, with the title of the maintenance or drill each came from.
async fn action_items(conn: &mut PgConnection, q: ItemQuery<'_>) -> Result<Vec<ActionItem>> {
    let (maintenances, drills) = q.sources.unwrap_or((&[], &[]));
    Ok(sqlx::query_as!(
        ActionItem,
        r#"SELECT a.id, a.maintenance_id, a.drill_id,
                  COALESCE(m.title, d.title) AS "source!", a.title, a.owner, a.due_on, a.done_at,
                  a.done_by
           FROM action_items a
           LEFT JOIN maintenances m ON m.id = a.maintenance_id
           LEFT JOIN dr_drills d ON d.id = a.drill_id
           WHERE ($1::uuid IS NULL OR a.id = $1)
             AND (NOT $2 OR a.maintenance_id = ANY($3) OR a.drill_id = ANY($4))
             AND (NOT $5 OR a.done_at IS NULL)
           ORDER BY a.due_on, a.created_at
           LIMIT $6"#,
        q.id,
        q.sources.is_some(),
        maintenances,
        drills,
        q.open,
        q.limit,
    )
    .fetch_all(conn)
    .await?)
}

/// Action items of the given maintenances and drills.
pub(crate) async fn action_items_of(
    conn: &mut PgConnection,
    maintenances: &[Uuid],
    drills: &[Uuid],
) -> Result<Vec<ActionItem>> {
    if maintenances.is_empty() && drills.is_empty() {
        return Ok(Vec::new());
    }
    action_items(
        conn,
        ItemQuery {
            sources: Some((maintenances, drills)),
            ..ItemQuery::default()
        },
    )
    .await
}

pub(crate) async fn fetch(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Maintenance> {
    if lock {
        sqlx::query!("SELECT id FROM maintenances WHERE id = $1 FOR UPDATE", id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| Error::not_found("maintenance"))?;
    }
    load(conn, Some(&[id]), &MaintenanceQuery::default())
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("maintenance"))
}

/// Maintenances, by start.
pub async fn list(
    pool: &PgPool,
    caller: &Caller,
    query: &MaintenanceQuery,
) -> Result<Vec<Maintenance>> {
    caller.actor.authorize(Action::Read)?;
    let mut p = Problems::default();
    for (field, value) in [("from", query.from), ("to", query.to)] {
        if let Some(t) = value {
            crate::validate::instant(&mut p, field, t);
        }
    }
    p.finish()?;
    let mut conn = pool.acquire().await?;
    load(&mut conn, None, query).await
}

/// One maintenance with its retrospective.
pub async fn get(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<Maintenance> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, id, false).await
}

/// A form after the rules: when it takes place and what to warn about.
struct Resolved {
    category: Category,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    window_date: Option<NaiveDate>,
    warnings: Vec<String>,
}

fn text(p: &mut Problems, field: &str, value: &mut String, required: bool, max: usize) {
    *value = value.trim().to_owned();
    if required && value.is_empty() {
        p.add(field, "is required");
    } else if value.chars().count() > max {
        p.add(field, format!("must be at most {max} characters"));
    }
}

fn list_days(windows: &[NaiveDate]) -> String {
    windows
        .iter()
        .map(|d| day(*d))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The local day of a maintenance's window (its start in UTC for one outside the windows).
fn day_of(m: &Maintenance) -> NaiveDate {
    m.window_date.unwrap_or(m.starts_at.date_naive())
}

/// The first day the next environment may repeat `staging`'s change: `soak` working days (on
/// `working`, the next environment's working days) after its window's day. Counted from the day
/// of the window, as the plans derive and check the
/// following environment's windows ([`super::skew::check_skew`]), so every window a following
/// plan gives keeps the soak; that staging has ended before is checked on its own.
fn soak_ends(staging: &Maintenance, soak: u8, working: &super::WorkingDays) -> NaiveDate {
    working.add(day_of(staging), u32::from(soak))
}

/// Whether two Kubernetes versions name the same release, however written (`1.32`, `v1.32`
/// and `1.32.0` do; `1.32.1` does not).
fn same_kubernetes_version(a: &str, b: &str) -> bool {
    match (eol::parse_version(a), eol::parse_version(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a.trim() == b.trim(),
    }
}

/// What a maintenance changes, as far as a later environment must repeat it: its category and
/// every field that says what is updated (DOMAIN §3: Kubernetes version, node OS image, system
/// components). The free-text description is left out: it says how the work is done, and each
/// environment's may rightly differ.
struct Change<'a> {
    category: Category,
    kubernetes_from: &'a str,
    kubernetes_to: &'a str,
    node_image: &'a str,
    components: &'a str,
}

impl<'a> Change<'a> {
    fn of_maintenance(m: &'a Maintenance) -> Change<'a> {
        Change {
            category: m.category,
            kubernetes_from: &m.kubernetes_from,
            kubernetes_to: &m.kubernetes_to,
            node_image: &m.node_image,
            components: &m.components,
        }
    }
}

/// Whether two texts say the same, whatever their case and spacing.
fn same_text(a: &str, b: &str) -> bool {
    let words = |s: &str| {
        s.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    words(a) == words(b)
}

/// The first field in which `repeat` does not carry the change `earlier` made on `up_slug`, with
/// the sentence that says so: a later environment receives exactly what the earlier one
/// received, nothing more (a change not tried there) and nothing less (a combination not tried
/// there either). Versions compare as versions (`v1.32` is `1.32`), texts whatever their case and
/// spacing. None when they are the same change.
fn differing_change(
    up_slug: &str,
    earlier: &Change<'_>,
    repeat: &Change<'_>,
) -> Option<(&'static str, String)> {
    let shown = |v: &str, none: &str| {
        if v.trim().is_empty() {
            none.to_owned()
        } else {
            format!("“{}”", v.split_whitespace().collect::<Vec<_>>().join(" "))
        }
    };
    if earlier.category != repeat.category {
        return Some((
            "category",
            format!(
                "the category differs: that maintenance is a {}, this one a {}: repeat the same change",
                earlier.category.label().to_lowercase(),
                repeat.category.label().to_lowercase()
            ),
        ));
    }
    let same_version = |a: &str, b: &str| {
        (a.is_empty() && b.is_empty())
            || (!a.is_empty() && !b.is_empty() && same_kubernetes_version(a, b))
    };
    if !same_version(earlier.kubernetes_to, repeat.kubernetes_to) {
        return Some((
            "kubernetes_to",
            format!(
                "kubernetes_to differs: {up_slug} was upgraded to {}, not {}; repeat the same change",
                if earlier.kubernetes_to.is_empty() {
                    "no new Kubernetes version"
                } else {
                    earlier.kubernetes_to
                },
                if repeat.kubernetes_to.is_empty() {
                    "no new Kubernetes version"
                } else {
                    repeat.kubernetes_to
                }
            ),
        ));
    }
    if !same_version(earlier.kubernetes_from, repeat.kubernetes_from) {
        return Some((
            "kubernetes_from",
            format!(
                "kubernetes_from differs: {up_slug} was upgraded from {}, this one from {}; repeat the same change",
                shown(earlier.kubernetes_from, "no stated version"),
                shown(repeat.kubernetes_from, "no stated version")
            ),
        ));
    }
    for (field, a, b) in [
        ("node_image", earlier.node_image, repeat.node_image),
        ("components", earlier.components, repeat.components),
    ] {
        if !same_text(a, b) {
            return Some((
                field,
                format!(
                    "{field} differs: {up_slug} received {}, this one {}; repeat the same change",
                    shown(a, "none"),
                    shown(b, "none")
                ),
            ));
        }
    }
    None
}

/// The environment an environment's changes must pass through first ([`rules::upstream`]).
async fn upstream(
    conn: &mut PgConnection,
    environment_id: Uuid,
    cal: &Calendar,
) -> Result<Option<(Uuid, String)>> {
    let platform = sqlx::query_as!(
        crate::model::Environment,
        "SELECT e.id, e.platform_id, e.slug, e.name, e.position, e.is_production, e.archived_at,
                e.version, e.created_at, e.updated_at
         FROM environments e JOIN environments me ON me.platform_id = e.platform_id
         WHERE me.id = $1 ORDER BY e.position",
        environment_id
    )
    .fetch_all(conn)
    .await?;
    let Some(env) = platform.iter().find(|e| e.id == environment_id) else {
        return Ok(None);
    };
    Ok(
        rules::upstream(env, cal.plans.get(&environment_id), &platform)
            .map(|u| (u.id, u.slug.clone())),
    )
}

/// Each maintenance says what it changes and how it is undone (DOMAIN §3): a planned one names at
/// least one of the Kubernetes versions, the node image, the system components or a description;
/// every one, whatever its category, carries a contingency plan (a security patch can break
/// things too). Expects trimmed text.
fn describes_the_change(p: &mut Problems, category: Category, form: &MaintenanceForm) {
    let says_what = [
        &form.kubernetes_from,
        &form.kubernetes_to,
        &form.node_image,
        &form.components,
        &form.description,
    ]
    .iter()
    .any(|v| !v.is_empty());
    if category != Category::Emergency && !says_what {
        p.add(
            "changes",
            "say what changes: the Kubernetes versions, the node image, the system components or a description",
        );
    }
    if form.contingency_plan.is_empty() {
        p.add(
            "contingency_plan",
            format!(
                "is required for {}: say how the change is rolled back or worked around if it goes wrong",
                match category {
                    Category::SecurityPatch => "a security patch",
                    Category::Minor => "a minor update",
                    Category::Major => "a major update",
                    Category::Emergency => "an emergency",
                }
            ),
        );
    }
}

/// Applies every rule to a form. `current` is the maintenance being changed, if any.
async fn resolve(
    conn: &mut PgConnection,
    form: &mut MaintenanceForm,
    current: Option<&Maintenance>,
    now: DateTime<Utc>,
) -> Result<Resolved> {
    let mut p = Problems::default();
    let category = Category::parse(form.category.trim());
    if category.is_none() {
        p.add(
            "category",
            "must be one of security_patch, minor, major, emergency",
        );
    }
    text(&mut p, "title", &mut form.title, true, 160);
    text(&mut p, "lead", &mut form.lead, true, 120);
    for (field, value) in [
        ("kubernetes_from", &mut form.kubernetes_from),
        ("kubernetes_to", &mut form.kubernetes_to),
        ("node_image", &mut form.node_image),
    ] {
        text(&mut p, field, value, false, 120);
    }
    for (field, value) in [
        ("components", &mut form.components),
        ("description", &mut form.description),
        ("expected_impact", &mut form.expected_impact),
        ("contingency_plan", &mut form.contingency_plan),
        ("justification", &mut form.justification),
    ] {
        text(&mut p, field, value, false, MAX_TEXT);
    }
    if let Some(category) = category {
        describes_the_change(&mut p, category, form);
    }
    let env = sqlx::query!(
        "SELECT platform_id, slug, archived_at IS NOT NULL AS \"archived!\" FROM environments WHERE id = $1",
        form.environment_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(env) = env else {
        p.add("environment_id", "no such environment");
        p.finish()?;
        return Err(Error::not_found("environment"));
    };
    if env.archived {
        p.add("environment_id", "is archived");
    }
    // The windows and blackouts read below stay as they are until this maintenance is saved.
    super::plans::lock_calendar(&mut *conn, env.platform_id, false).await?;
    if let Some(c) = &current
        && c.environment_id != form.environment_id
    {
        p.add(
            "environment_id",
            "a maintenance stays in its environment; cancel it and plan a new one",
        );
    }
    // Full versions (a patch upgrade is an upgrade); the end of life below goes by minors.
    let k8s_from =
        (!form.kubernetes_from.is_empty()).then(|| eol::parse_version(&form.kubernetes_from));
    let k8s_to = (!form.kubernetes_to.is_empty()).then(|| eol::parse_version(&form.kubernetes_to));
    if let Some(None) = k8s_from {
        p.add(
            "kubernetes_from",
            "must be a Kubernetes version such as 1.31 or 1.31.4",
        );
    }
    if let Some(None) = k8s_to {
        p.add(
            "kubernetes_to",
            "must be a Kubernetes version such as 1.32 or 1.31.6",
        );
    }
    if let (Some(Some(a)), Some(Some(b))) = (k8s_from, k8s_to)
        && b <= a
    {
        p.add(
            "kubernetes_to",
            "must be newer than the version upgraded from",
        );
    }
    let Some(category) = category else {
        p.finish()?;
        return Err(Error::invalid("category", "is required"));
    };
    let cal = Calendar::load(conn, Some(env.platform_id)).await?;
    let plan = cal.plans.get(&form.environment_id);
    let mut warnings = Vec::new();

    // When: a plan window, or the emergency's own times.
    let (starts_at, ends_at, window_date) = if category == Category::Emergency {
        if form.justification.is_empty() {
            p.add(
                "justification",
                "an emergency maintenance must say why it cannot wait for a window (e.g. the exploited vulnerability)",
            );
        }
        for (field, value) in [("starts_at", form.starts_at), ("ends_at", form.ends_at)] {
            if let Some(t) = value {
                crate::validate::instant(&mut p, field, t);
            }
        }
        match (form.starts_at, form.ends_at) {
            (Some(s), Some(e)) if e <= s => {
                p.add("ends_at", "must come after the start");
                (s, e, None)
            }
            (Some(s), Some(e)) if e - s > Duration::hours(MAX_EMERGENCY_HOURS) => {
                p.add(
                    "ends_at",
                    format!("an emergency window lasts at most {MAX_EMERGENCY_HOURS} hours"),
                );
                (s, e, None)
            }
            (Some(s), Some(e)) => (s, e, None),
            (s, e) => {
                if s.is_none() {
                    p.add("starts_at", "is required for an emergency");
                }
                if e.is_none() {
                    p.add("ends_at", "is required for an emergency");
                }
                (now, now, None)
            }
        }
    } else {
        match (plan, form.window_date) {
            (None, _) => {
                p.add(
                    "window_date",
                    format!(
                        "{} has no maintenance plan: plan its windows first, or declare an emergency",
                        env.slug
                    ),
                );
                (now, now, None)
            }
            (Some(_), None) => {
                p.add("window_date", "choose one of the environment's windows");
                (now, now, None)
            }
            (Some(plan), Some(date)) => {
                if !plan.allowed_categories.contains(&category) {
                    p.add(
                        "category",
                        format!(
                            "the windows of {} allow only: {}",
                            env.slug,
                            plan.allowed_categories
                                .iter()
                                .map(|c| c.label())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
                crate::validate::date(&mut p, "window_date", date);
                // The windows around the chosen day (a zone far from UTC starts its window on
                // another UTC day), where blackouts put them: one moved here from an earlier day
                // is found too.
                let midnight = |days: i64| {
                    date.checked_add_signed(Duration::days(days))
                        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
                };
                let window = match (midnight(-2), midnight(3)) {
                    (Some(around_from), Some(around_to)) => cal
                        .compute(form.environment_id, around_from, around_to)
                        .and_then(|c| {
                            c.schedule
                                .occurrences
                                .into_iter()
                                .find(|o| o.local_date == date)
                        }),
                    _ => None,
                };
                match window {
                    Some(w) if w.start_utc <= now => {
                        p.add("window_date", "this window has already started");
                        (w.start_utc, w.end_utc, Some(date))
                    }
                    Some(w) => (w.start_utc, w.end_utc, Some(date)),
                    None => {
                        let next: Vec<NaiveDate> = cal
                            .compute(form.environment_id, now, now + Duration::days(120))
                            .map(|c| {
                                c.schedule
                                    .occurrences
                                    .iter()
                                    .take(3)
                                    .map(|o| o.local_date)
                                    .collect()
                            })
                            .unwrap_or_default();
                        p.add(
                            "window_date",
                            if next.is_empty() {
                                format!(
                                    "{} is not a maintenance window of {}",
                                    human_date(date),
                                    env.slug
                                )
                            } else {
                                format!(
                                    "{} is not a maintenance window of {}; the next windows are {}",
                                    human_date(date),
                                    env.slug,
                                    list_days(&next)
                                )
                            },
                        );
                        (now, now, None)
                    }
                }
            }
        }
    };
    p.finish()?;

    // Notice for a major update, counted from when the teams hear of it. Not announced yet: from
    // now on, the earliest it can be announced. Announced as a major update: the teams have known
    // of the change since the announcement, so moving it earlier must still leave the full notice
    // between the announcement and the new start (moving it later only adds notice). Announced as
    // something smaller and now major: the teams hear that it is major only now.
    let notice_from = match current {
        None => Some((now, None)),
        Some(c) => match c.announced_at {
            None => Some((now, None)),
            Some(_) if c.category != Category::Major => Some((now, None)),
            Some(at) if starts_at < c.starts_at => Some((at, Some(at))),
            Some(_) => None,
        },
    };
    if category == Category::Major
        && let Some((from, announced)) = notice_from
    {
        let settings = load_settings(conn, env.platform_id).await?;
        let ahead = cal
            .compute(form.environment_id, now, now + Duration::days(500))
            .map(|c| c.schedule.occurrences)
            .unwrap_or_default();
        match rules::major_notice(starts_at, from, settings.major_notice_days, &ahead) {
            rules::Notice::Fine => {}
            rules::Notice::Short(w) => warnings.push(w),
            rules::Notice::TooLate(e) => {
                return Err(Error::invalid(
                    "window_date",
                    match announced {
                        Some(at) => format!(
                            "it was announced on {}, and {e}",
                            at.format("%Y-%m-%d %H:%M UTC")
                        ),
                        None => e,
                    },
                ));
            }
        }
    }

    // Staging first. An environment with nothing before it repeats no other maintenance: a
    // reference there would show it "following" whatever it names (even another platform's).
    let earlier = match category {
        Category::Emergency => None,
        _ => upstream(conn, form.environment_id, &cal).await?,
    };
    if category == Category::Emergency && form.staging_maintenance_id.is_some() {
        return Err(Error::invalid(
            "staging_maintenance_id",
            "an emergency does not wait for an earlier environment, so it repeats no maintenance there: leave this empty (say in the justification what was tried first)",
        ));
    }
    if earlier.is_none() && form.staging_maintenance_id.is_some() {
        return Err(Error::invalid(
            "staging_maintenance_id",
            format!(
                "{} follows no earlier environment, so a maintenance there repeats none: leave this empty",
                env.slug
            ),
        ));
    }
    if let Some((up_id, up_slug)) = earlier {
        match form.staging_maintenance_id {
            None => {
                return Err(Error::invalid(
                    "staging_maintenance_id",
                    format!(
                        "{} may only receive changes that {} received in an earlier window: name the maintenance of {} this one repeats",
                        env.slug, up_slug, up_slug
                    ),
                ));
            }
            Some(sid) => {
                let s = fetch(conn, sid, false)
                    .await
                    .map_err(|_| Error::invalid("staging_maintenance_id", "no such maintenance"))?;
                let problem = if s.environment_id != up_id {
                    Some(format!("must be a maintenance of {up_slug}"))
                } else if matches!(
                    s.state,
                    MaintenanceState::Cancelled | MaintenanceState::RolledBack
                ) {
                    Some(format!(
                        "that maintenance of {up_slug} was {}: its change never landed there",
                        s.state.label().to_lowercase()
                    ))
                } else if s.ends_at > starts_at {
                    Some(format!(
                        "the {up_slug} window ends {}, after this window starts; {} must come first",
                        s.ends_at.format("%Y-%m-%d %H:%M UTC"),
                        up_slug
                    ))
                } else if let Some(soak) = cal.soak_of(form.environment_id)
                    && let Some(this_day) = window_date
                    && this_day < soak_ends(&s, soak, &cal.working_days(form.environment_id))
                {
                    Some(format!(
                        "{} keeps a soak of {} after {up_slug}: after the {up_slug} window of {}, {} may take this change on {} at the earliest",
                        env.slug,
                        super::skew::days_word(i64::from(soak)),
                        human_date(day_of(&s)),
                        env.slug,
                        human_date(soak_ends(&s, soak, &cal.working_days(form.environment_id)))
                    ))
                } else if let Some((_, why)) = differing_change(
                    &up_slug,
                    &Change::of_maintenance(&s),
                    &Change {
                        category,
                        kubernetes_from: &form.kubernetes_from,
                        kubernetes_to: &form.kubernetes_to,
                        node_image: &form.node_image,
                        components: &form.components,
                    },
                ) {
                    Some(why)
                } else {
                    None
                };
                if let Some(m) = problem {
                    return Err(Error::invalid("staging_maintenance_id", m));
                }
            }
        }
    }

    // Kubernetes end of life: an upgrade lands before the running minor's end. An emergency is
    // how a cluster past that point is upgraded (the refusal itself says so), so it is exempt.
    if category != Category::Emergency
        && let Some(Some(_)) = k8s_to
    {
        // What the cluster last reported outranks what the form says it runs: a typed version
        // that disagrees is refused rather than trusted, so a mistyped `kubernetes_from` cannot
        // move the end of life this check goes by. A newer one is believed only when a
        // maintenance of this environment before this one brings the cluster to it (upgrades
        // planned one after the other).
        let reported = sqlx::query_scalar!(
            "SELECT last_server_version FROM cluster_connections WHERE environment_id = $1",
            form.environment_id
        )
        .fetch_optional(&mut *conn)
        .await?
        .flatten()
        .and_then(|v| eol::parse_minor(&v).map(|minor| (v, minor)));
        let typed = match k8s_from {
            Some(Some((major, minor, _))) => Some((major, minor)),
            _ => None,
        };
        let running = match (typed, &reported) {
            (Some(t), Some((raw, r))) if t != *r => {
                let brought = t > *r
                    && upgraded_to_before(
                        conn,
                        form.environment_id,
                        current.map(|c| c.id),
                        starts_at,
                        t,
                    )
                    .await?;
                if !brought {
                    return Err(Error::invalid(
                        "kubernetes_from",
                        kubernetes_from_disagrees(&env.slug, raw, *r, t),
                    ));
                }
                Some(t)
            }
            (Some(t), _) => Some(t),
            (None, r) => r.as_ref().map(|(_, minor)| *minor),
        };
        if let Some(minor) = running {
            // A window suggested instead must itself be allowed: a major update's one far
            // enough ahead for its notice.
            let earliest = if category == Category::Major {
                let settings = load_settings(conn, env.platform_id).await?;
                now + Duration::days(i64::from(settings.major_notice_days))
            } else {
                now
            };
            let ahead: Vec<_> = cal
                .compute(form.environment_id, now, ends_at)
                .map(|c| c.schedule.occurrences)
                .unwrap_or_default()
                .into_iter()
                .filter(|o| o.start_utc >= earliest)
                .collect();
            if let Some(e) = rules::upgrade_too_late(minor, ends_at, &ahead) {
                return Err(Error::invalid("window_date", e));
            }
        }
    }

    Ok(Resolved {
        category,
        starts_at,
        ends_at,
        window_date,
        warnings,
    })
}

/// Whether a maintenance of `environment_id` other than `except`, not called off, ends by
/// `before` having upgraded to the minor `minor`: what lets a later upgrade start from it.
async fn upgraded_to_before(
    conn: &mut PgConnection,
    environment_id: Uuid,
    except: Option<Uuid>,
    before: DateTime<Utc>,
    minor: (u32, u32),
) -> Result<bool> {
    let earlier = load(
        conn,
        None,
        &MaintenanceQuery {
            environment_id: Some(environment_id),
            to: Some(before),
            ..MaintenanceQuery::default()
        },
    )
    .await?;
    Ok(earlier.iter().any(|m| {
        Some(m.id) != except
            && !matches!(
                m.state,
                MaintenanceState::Cancelled | MaintenanceState::RolledBack
            )
            && m.ends_at <= before
            && eol::parse_minor(&m.kubernetes_to) == Some(minor)
    }))
}

/// Why a `kubernetes_from` of minor `typed` is refused where the environment's cluster last
/// reported `reported` (`raw` as it said it).
fn kubernetes_from_disagrees(
    env: &str,
    raw: &str,
    reported: (u32, u32),
    typed: (u32, u32),
) -> String {
    let (rm, rn) = reported;
    let (tm, tn) = typed;
    if typed < reported {
        format!(
            "the cluster of {env} last reported Kubernetes {raw} ({rm}.{rn}), so it no longer runs {tm}.{tn}: say the version it runs"
        )
    } else {
        format!(
            "the cluster of {env} last reported Kubernetes {raw} ({rm}.{rn}), and no maintenance of {env} before this one upgrades it to {tm}.{tn}: say the version it runs, or plan that upgrade first"
        )
    }
}

/// Plans a maintenance.
#[tracing::instrument(skip_all)]
pub async fn create(
    pool: &PgPool,
    caller: &Caller,
    mut form: MaintenanceForm,
    now: DateTime<Utc>,
) -> Result<MaintenanceSaved> {
    caller.actor.authorize(Action::ManageCalendar)?;
    let mut tx = pool.begin().await?;
    let r = resolve(&mut tx, &mut form, None, now).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO maintenances (environment_id, category, title, starts_at, ends_at, window_date,
             kubernetes_from, kubernetes_to, node_image, components, description, expected_impact,
             contingency_plan, lead, justification, staging_maintenance_id, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         RETURNING id",
        form.environment_id,
        r.category.as_str(),
        form.title,
        r.starts_at,
        r.ends_at,
        r.window_date,
        form.kubernetes_from,
        form.kubernetes_to,
        form.node_image,
        form.components,
        form.description,
        form.expected_impact,
        form.contingency_plan,
        form.lead,
        form.justification,
        form.staging_maintenance_id,
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    let m = fetch(&mut tx, id, false).await?;
    audit::record::<(), _>(
        &mut tx,
        caller,
        "maintenance.create",
        "maintenance",
        &id.to_string(),
        None,
        Some(&m),
    )
    .await?;
    tx.commit().await?;
    Ok(MaintenanceSaved {
        maintenance: m,
        warnings: r.warnings,
    })
}

/// Changes a planned or announced maintenance. Subscribers see a new SEQUENCE; an announced one
/// notifies the teams again, its reminders follow a new start, and acknowledgements of the old
/// content are dropped.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    base_version: i32,
    mut form: MaintenanceForm,
    now: DateTime<Utc>,
) -> Result<MaintenanceSaved> {
    caller.actor.authorize(Action::ManageCalendar)?;
    let mut tx = pool.begin().await?;
    let before = fetch(&mut tx, id, true).await?;
    if before.version != base_version {
        return Err(Error::stale("maintenance"));
    }
    if !before.state.is_upcoming() {
        return Err(Error::Conflict {
            message: format!(
                "This maintenance is {}: only a planned or announced one can be changed.",
                before.state.label().to_lowercase()
            ),
        });
    }
    let r = resolve(&mut tx, &mut form, Some(&before), now).await?;
    sqlx::query!(
        "UPDATE maintenances SET category = $2, title = $3, starts_at = $4, ends_at = $5,
             window_date = $6, kubernetes_from = $7, kubernetes_to = $8, node_image = $9,
             components = $10, description = $11, expected_impact = $12, contingency_plan = $13,
             lead = $14, justification = $15, staging_maintenance_id = $16,
             sequence = sequence + 1, version = version + 1
         WHERE id = $1",
        id,
        r.category.as_str(),
        form.title,
        r.starts_at,
        r.ends_at,
        r.window_date,
        form.kubernetes_from,
        form.kubernetes_to,
        form.node_image,
        form.components,
        form.description,
        form.expected_impact,
        form.contingency_plan,
        form.lead,
        form.justification,
        form.staging_maintenance_id,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM maintenance_acknowledgements WHERE maintenance_id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    let after = fetch(&mut tx, id, false).await?;
    audit::record(
        &mut tx,
        caller,
        "maintenance.update",
        "maintenance",
        &id.to_string(),
        Some(&before),
        Some(&after),
    )
    .await?;
    if after.state == MaintenanceState::Announced {
        notices::maintenance_event(&mut tx, &after, Event::Changed, now).await?;
        notices::schedule_reminders(&mut tx, &after, now).await?;
    }
    tx.commit().await?;
    Ok(MaintenanceSaved {
        maintenance: after,
        warnings: r.warnings,
    })
}

/// No change during a freeze: a blackout added after a maintenance was planned takes its window
/// away, so it is neither announced nor started until it moves to another window or the
/// blackout ends. An emergency is exempt (it carries its own justification).
async fn outside_blackouts(conn: &mut PgConnection, m: &Maintenance, what: &str) -> Result<()> {
    if m.category == Category::Emergency {
        return Ok(());
    }
    let cal = Calendar::load(conn, Some(m.platform_id)).await?;
    match cal.blackout_over(m.platform_id, m.environment_id, m.starts_at, m.ends_at) {
        None => Ok(()),
        Some(b) => Err(Error::Conflict {
            message: format!(
                "This maintenance falls in the blackout “{}” ({}) of {}: it cannot be {what} during it. Move it to another window, or end the blackout first (only an emergency may go ahead in a blackout).",
                b.reason,
                super::plans::blackout_days(b),
                m.environment_slug
            ),
        }),
    }
}

/// Staging first, checked again when a maintenance starts: the maintenance of the earlier
/// environment that it repeats must have completed there. Planning only checked that it was
/// planned in an earlier window; since then it may have been cancelled or rolled back, or not
/// have ended yet. An emergency is exempt.
async fn staging_received(conn: &mut PgConnection, m: &Maintenance) -> Result<()> {
    if m.category == Category::Emergency {
        return Ok(());
    }
    let cal = Calendar::load(conn, Some(m.platform_id)).await?;
    let Some((up_id, up_slug)) = upstream(conn, m.environment_id, &cal).await? else {
        return Ok(());
    };
    let refuse = |why: String| {
        Err(Error::Conflict {
            message: format!(
                "{} may only receive a change that {up_slug} has received first: {why}. Until then it cannot start (an emergency is the exception).",
                m.environment_slug
            ),
        })
    };
    let Some(sid) = m.staging_maintenance_id else {
        return refuse(format!(
            "this maintenance names no maintenance of {up_slug} that it repeats; edit it to name one"
        ));
    };
    let s = fetch(conn, sid, false).await?;
    if s.environment_id != up_id {
        return refuse(format!(
            "the maintenance it repeats is one of {}, not of {up_slug}",
            s.environment_slug
        ));
    }
    // Checked again here: the maintenance of the earlier environment may have been edited since
    // this one named it, and what starts here must be what landed there.
    if let Some((_, why)) = differing_change(
        &up_slug,
        &Change::of_maintenance(&s),
        &Change::of_maintenance(m),
    ) {
        return refuse(format!(
            "“{}” on {up_slug} does not carry the change this maintenance makes ({why})",
            s.title
        ));
    }
    match s.state {
        // Checked again here, not only when planned: the staging maintenance may have moved to
        // a later window since, and the soak counts from the window it really took.
        MaintenanceState::Completed => match cal.soak_of(m.environment_id) {
            Some(soak) if day_of(m) < soak_ends(&s, soak, &cal.working_days(m.environment_id)) => {
                refuse(format!(
                    "“{}” took the {up_slug} window of {}, and {} keeps a soak of {} after it, so the change may come here on {} at the earliest; move this maintenance to a later window",
                    s.title,
                    human_date(day_of(&s)),
                    m.environment_slug,
                    super::skew::days_word(i64::from(soak)),
                    human_date(soak_ends(&s, soak, &cal.working_days(m.environment_id)))
                ))
            }
            _ => Ok(()),
        },
        MaintenanceState::Cancelled | MaintenanceState::RolledBack => refuse(format!(
            "“{}” was {} on {up_slug}, so its change never landed there",
            s.title,
            s.state.label().to_lowercase()
        )),
        other => refuse(format!(
            "“{}” has not completed on {up_slug} yet (it is {})",
            s.title,
            other.label().to_lowercase()
        )),
    }
}

/// A lifecycle step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Announce,
    Start,
    Complete,
    RollBack,
    Cancel,
}

impl Transition {
    pub fn parse(s: &str) -> Option<Transition> {
        Some(match s {
            "announce" => Transition::Announce,
            "start" => Transition::Start,
            "complete" => Transition::Complete,
            "roll-back" | "roll_back" => Transition::RollBack,
            "cancel" => Transition::Cancel,
            _ => return None,
        })
    }
}

/// Moves a maintenance along its lifecycle. Announcing checks the notice again (a major update
/// announced with less than about two months' notice answers with a warning) and schedules the
/// reminders; each step notifies the teams that run applications in the environment.
#[tracing::instrument(skip_all, fields(%id, ?step))]
pub async fn transition(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    step: Transition,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<MaintenanceSaved> {
    caller.actor.authorize(Action::ManageCalendar)?;
    let mut tx = pool.begin().await?;
    let before = fetch(&mut tx, id, true).await?;
    use MaintenanceState as S;
    let wrong = |what: &str| {
        Err(Error::Conflict {
            message: format!(
                "This maintenance is {}; it cannot be {what}.",
                before.state.label().to_lowercase()
            ),
        })
    };
    let reason = reason.trim();
    let mut warnings = Vec::new();
    let (state, event) = match step {
        Transition::Announce => {
            if before.state != S::Planned {
                return wrong("announced");
            }
            if before.starts_at <= now {
                return Err(Error::Conflict {
                    message: "This window has already started; start the maintenance instead of announcing it.".into(),
                });
            }
            outside_blackouts(&mut tx, &before, "announced").await?;
            if before.category == Category::Major {
                let settings = load_settings(&mut tx, before.platform_id).await?;
                let days = i64::from(settings.major_notice_days);
                if before.starts_at - now < Duration::days(days) {
                    return Err(Error::Conflict {
                        message: format!(
                            "A major update must be announced at least {days} days before it starts; this one starts {}. Move it to a later window.",
                            before.starts_at.format("%Y-%m-%d %H:%M UTC")
                        ),
                    });
                }
                // The notice the teams really get is counted from now: planning only estimated
                // it (from the day it was planned), and an announcement made later gives less.
                if let rules::Notice::Short(w) =
                    rules::major_notice(before.starts_at, now, settings.major_notice_days, &[])
                {
                    warnings.push(w);
                }
            }
            (S::Announced, Event::Announced)
        }
        Transition::Start => {
            if !before.state.is_upcoming() {
                return wrong("started");
            }
            // Planned -> announced -> in progress: the teams hear of every planned change, and
            // get their reminders, before it starts. Only an emergency may skip the notice.
            if before.category != Category::Emergency && before.state != S::Announced {
                return Err(Error::Conflict {
                    message: format!(
                        "This {} has not been announced: announce it first, so the teams that run applications in {} hear of it and get their reminders. Only an emergency starts without notice.",
                        before.category.label().to_lowercase(),
                        before.environment_slug
                    ),
                });
            }
            // Teams were told of a window; the change comes in it, not before or after.
            if let Some(message) =
                rules::cannot_start_now(before.category, before.starts_at, before.ends_at, now)
            {
                return Err(Error::Conflict { message });
            }
            outside_blackouts(&mut tx, &before, "started").await?;
            staging_received(&mut tx, &before).await?;
            (S::InProgress, Event::Started)
        }
        Transition::Complete => {
            if before.state != S::InProgress {
                return wrong("completed");
            }
            (S::Completed, Event::Completed)
        }
        Transition::RollBack => {
            if before.state != S::InProgress {
                return wrong("rolled back");
            }
            (S::RolledBack, Event::RolledBack)
        }
        Transition::Cancel => {
            if !before.state.is_upcoming() {
                return wrong("cancelled (a started maintenance can only be ended)");
            }
            if reason.is_empty() {
                return Err(Error::invalid("reason", "say why it is cancelled"));
            }
            (S::Cancelled, Event::Cancelled)
        }
    };
    sqlx::query!(
        "UPDATE maintenances SET state = $2, sequence = sequence + 1, version = version + 1,
             announced_at = CASE WHEN $2 = 'announced' THEN $3 ELSE announced_at END,
             started_at = CASE WHEN $2 = 'in_progress' THEN $3 ELSE started_at END,
             ended_at = CASE WHEN $2 IN ('completed', 'rolled_back') THEN $3 ELSE ended_at END,
             cancel_reason = CASE WHEN $2 = 'cancelled' THEN $4 ELSE cancel_reason END
         WHERE id = $1",
        id,
        state.as_str(),
        now,
        reason,
    )
    .execute(&mut *tx)
    .await?;
    let after = fetch(&mut tx, id, false).await?;
    audit::record(
        &mut tx,
        caller,
        &format!("maintenance.{}", state.as_str()),
        "maintenance",
        &id.to_string(),
        Some(&before),
        Some(&after),
    )
    .await?;
    // Once work starts, the teams running in the environment hear of it and of how it ended,
    // also of an emergency that was never announced: their applications are affected either way.
    // Calling off a maintenance they were never told of would only be noise, so a cancellation
    // reaches them only when it was announced (or is an emergency). Each step happens once per
    // maintenance, so each notice goes out once.
    let told = before.announced_at.is_some() || state == S::Announced;
    let worked_on = matches!(state, S::InProgress | S::Completed | S::RolledBack);
    if told || worked_on || after.category == Category::Emergency {
        notices::maintenance_event(&mut tx, &after, event, now).await?;
    }
    if state == S::Announced {
        notices::schedule_reminders(&mut tx, &after, now).await?;
    }
    tx.commit().await?;
    Ok(MaintenanceSaved {
        maintenance: after,
        warnings,
    })
}

pub(crate) fn validate_retrospective(form: &mut RetrospectiveForm) -> Result<()> {
    let mut p = Problems::default();
    text(&mut p, "went_well", &mut form.went_well, false, MAX_TEXT);
    text(&mut p, "to_improve", &mut form.to_improve, false, MAX_TEXT);
    if form.went_well.is_empty() && form.to_improve.is_empty() {
        p.add("went_well", "write what went well or what to improve");
    }
    if form.action_items.len() > 50 {
        p.add("action_items", "at most 50 action items at once");
    }
    for (i, item) in form.action_items.iter_mut().enumerate() {
        text(
            &mut p,
            &format!("action_items[{i}].title"),
            &mut item.title,
            true,
            200,
        );
        text(
            &mut p,
            &format!("action_items[{i}].owner"),
            &mut item.owner,
            true,
            120,
        );
        crate::validate::date(&mut p, &format!("action_items[{i}].due_on"), item.due_on);
    }
    p.finish()
}

/// Inserts a retrospective's action items.
pub(crate) async fn insert_action_items(
    conn: &mut PgConnection,
    maintenance_id: Option<Uuid>,
    drill_id: Option<Uuid>,
    items: &[ActionItemInput],
) -> Result<()> {
    for item in items {
        sqlx::query!(
            "INSERT INTO action_items (maintenance_id, drill_id, title, owner, due_on)
             VALUES ($1, $2, $3, $4, $5)",
            maintenance_id,
            drill_id,
            item.title,
            item.owner,
            item.due_on,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The action items of `wanted` that `existing` does not hold yet. An item with the same title,
/// owner and due date is the same item; they are counted, so two identical rows sent together
/// are two items, and sending them again adds none.
fn missing_action_items(
    existing: &[ActionItem],
    wanted: &[ActionItemInput],
) -> Vec<ActionItemInput> {
    let mut held: std::collections::HashMap<(&str, &str, NaiveDate), usize> =
        std::collections::HashMap::new();
    for i in existing {
        *held
            .entry((i.title.as_str(), i.owner.as_str(), i.due_on))
            .or_default() += 1;
    }
    wanted
        .iter()
        .filter(
            |w| match held.get_mut(&(w.title.as_str(), w.owner.as_str(), w.due_on)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            },
        )
        .cloned()
        .collect()
}

/// Writes the retrospective of a completed or rolled-back maintenance: its text, replaced, and
/// its action items, merged. `base_version` is the version the writer read: a retrospective
/// changed since is refused as stale, so nobody overwrites one they have not seen. An action
/// item already on the retrospective (same title, owner and due date) is not added again, and
/// none is removed (they are tracked work: they get done). Sending what is already stored (a
/// retried request whose answer was lost, a form sent twice) changes nothing and answers the
/// maintenance as it is, whatever version it was based on.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn write_retrospective(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    base_version: i32,
    mut form: RetrospectiveForm,
    now: DateTime<Utc>,
) -> Result<Maintenance> {
    caller.actor.authorize(Action::ManageCalendar)?;
    validate_retrospective(&mut form)?;
    let mut tx = pool.begin().await?;
    let before = fetch(&mut tx, id, true).await?;
    if !before.state.is_ended() {
        return Err(Error::Conflict {
            message: "A retrospective is written after the maintenance has ended.".into(),
        });
    }
    let held = before
        .retrospective
        .as_ref()
        .map_or(&[][..], |r| &r.action_items[..]);
    let new_items = missing_action_items(held, &form.action_items);
    let stored = before.retrospective.as_ref().is_some_and(|r| {
        r.went_well == form.went_well && r.to_improve == form.to_improve && new_items.is_empty()
    });
    if stored {
        return Ok(before);
    }
    if before.version != base_version {
        return Err(Error::stale("maintenance"));
    }
    sqlx::query!(
        "UPDATE maintenances SET went_well = $2, to_improve = $3, retrospective_at = $4,
             version = version + 1
         WHERE id = $1",
        id,
        form.went_well,
        form.to_improve,
        now,
    )
    .execute(&mut *tx)
    .await?;
    insert_action_items(&mut tx, Some(id), None, &new_items).await?;
    let after = fetch(&mut tx, id, false).await?;
    audit::record(
        &mut tx,
        caller,
        "maintenance.retrospective",
        "maintenance",
        &id.to_string(),
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Open action items of every retrospective, by due date: what the dashboard shows.
pub async fn open_action_items(pool: &PgPool, caller: &Caller) -> Result<Vec<ActionItem>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    action_items(
        &mut conn,
        ItemQuery {
            open: true,
            limit: Some(200),
            ..ItemQuery::default()
        },
    )
    .await
}

/// Ended maintenances still waiting for their retrospective, the longest waiting first: what the
/// dashboard chases. Every one counts however long ago it ended (a retrospective does not stop
/// being due after a year); an emergency's is mandatory.
pub async fn retrospectives_due(pool: &PgPool, caller: &Caller) -> Result<Vec<Maintenance>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    let ids = sqlx::query_scalar!(
        "SELECT id FROM maintenances
         WHERE state IN ('completed', 'rolled_back') AND retrospective_at IS NULL
         ORDER BY ended_at, id LIMIT 200"
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut due = load(&mut conn, Some(&ids), &MaintenanceQuery::default()).await?;
    due.sort_by_key(|m| (m.ended_at, m.id));
    Ok(due)
}

/// Marks an action item done. Platform staff for maintenances and platform drills; for an
/// application's drill also the application's team.
pub async fn complete_action_item(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<ActionItem> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "SELECT a.done_at, t.slug AS \"team?\" FROM action_items a
         LEFT JOIN dr_drills d ON d.id = a.drill_id
         LEFT JOIN applications ap ON ap.id = d.application_id
         LEFT JOIN teams t ON t.id = ap.team_id
         WHERE a.id = $1 FOR UPDATE OF a",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("action item"))?;
    match &row.team {
        Some(team) => caller
            .actor
            .authorize(Action::WorkOnTeamCalendar { team })?,
        None => caller.actor.authorize(Action::ManageCalendar)?,
    }
    if row.done_at.is_some() {
        return Err(Error::Conflict {
            message: "This action item is already done.".into(),
        });
    }
    sqlx::query!(
        "UPDATE action_items SET done_at = $2, done_by = $3 WHERE id = $1",
        id,
        now,
        caller.actor.name
    )
    .execute(&mut *tx)
    .await?;
    let item = action_items(
        &mut tx,
        ItemQuery {
            id: Some(id),
            ..ItemQuery::default()
        },
    )
    .await?
    .pop()
    .ok_or_else(|| Error::not_found("action item"))?;
    audit::record(
        &mut tx,
        caller,
        "action_item.done",
        "action_item",
        &id.to_string(),
        None::<&()>,
        Some(&item),
    )
    .await?;
    tx.commit().await?;
    Ok(item)
}

/// The teams that run applications in the maintenance's environment, and whether each has
/// acknowledged it.
pub async fn acknowledgements(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
) -> Result<Vec<Acknowledgement>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    let m = fetch(&mut conn, id, false).await?;
    load_acks(&mut conn, &m).await
}

async fn load_acks(conn: &mut PgConnection, m: &Maintenance) -> Result<Vec<Acknowledgement>> {
    let rows = sqlx::query!(
        r#"SELECT t.id, t.slug, t.name, k.acknowledged_by AS "by?", k.acknowledged_at AS "at?"
           FROM teams t
           LEFT JOIN maintenance_acknowledgements k ON k.team_id = t.id AND k.maintenance_id = $2
           WHERE t.archived_at IS NULL AND EXISTS (
               SELECT 1 FROM applications a JOIN application_namespaces n ON n.application_id = a.id
               WHERE a.team_id = t.id AND a.archived_at IS NULL AND n.environment_id = $1)
           ORDER BY t.name"#,
        m.environment_id,
        m.id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Acknowledgement {
            team_id: r.id,
            team_slug: r.slug,
            team_name: r.name,
            current: r.by.is_some(),
            acknowledged_by: r.by,
            acknowledged_at: r.at,
        })
        .collect())
}

/// Every announced major update still to come that some team has not acknowledged: what the
/// platform team chases before the window.
pub async fn awaiting_acknowledgement(
    pool: &PgPool,
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<Vec<AwaitingAcknowledgement>> {
    caller.actor.authorize(Action::Read)?;
    let rows = sqlx::query!(
        r#"SELECT m.id, m.title, e.slug AS environment, m.starts_at,
                  array_agg(t.name ORDER BY t.name) AS "teams!"
           FROM maintenances m
           JOIN environments e ON e.id = m.environment_id
           JOIN teams t ON t.archived_at IS NULL AND EXISTS (
               SELECT 1 FROM applications a JOIN application_namespaces n ON n.application_id = a.id
               WHERE a.team_id = t.id AND a.archived_at IS NULL AND n.environment_id = m.environment_id)
           WHERE m.state = 'announced' AND m.category = 'major' AND m.starts_at > $1
             AND NOT EXISTS (SELECT 1 FROM maintenance_acknowledgements k
                             WHERE k.maintenance_id = m.id AND k.team_id = t.id)
           GROUP BY m.id, m.title, e.slug, m.starts_at
           ORDER BY m.starts_at, m.title"#,
        now
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AwaitingAcknowledgement {
            maintenance_id: r.id,
            title: r.title,
            environment_slug: r.environment,
            starts_at: r.starts_at,
            teams: r.teams,
        })
        .collect())
}

/// A team acknowledges an announced major maintenance of an environment it runs in.
#[tracing::instrument(skip_all, fields(%id, %team_id))]
pub async fn acknowledge(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    team_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Acknowledgement>> {
    let mut tx = pool.begin().await?;
    let team = crate::teams::slug_of(&mut tx, team_id).await?;
    caller
        .actor
        .authorize(Action::AcknowledgeMaintenance { team: &team })?;
    let m = fetch(&mut tx, id, true).await?;
    if m.category != Category::Major || m.state != MaintenanceState::Announced {
        return Err(Error::Conflict {
            message: "Only an announced major update is acknowledged.".into(),
        });
    }
    let acks = load_acks(&mut tx, &m).await?;
    if !acks.iter().any(|a| a.team_id == team_id) {
        return Err(Error::invalid(
            "team_id",
            format!(
                "team {team} runs no application in {}; nothing to acknowledge",
                m.environment_slug
            ),
        ));
    }
    sqlx::query!(
        "INSERT INTO maintenance_acknowledgements (maintenance_id, team_id, sequence, acknowledged_by, acknowledged_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (maintenance_id, team_id) DO UPDATE SET sequence = EXCLUDED.sequence,
             acknowledged_by = EXCLUDED.acknowledged_by, acknowledged_at = EXCLUDED.acknowledged_at",
        id,
        team_id,
        m.sequence,
        caller.actor.name,
        now,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "maintenance.acknowledge",
        "maintenance",
        &id.to_string(),
        None::<&()>,
        Some(&serde_json::json!({ "team": team, "sequence": m.sequence })),
    )
    .await?;
    let acks = load_acks(&mut tx, &m).await?;
    tx.commit().await?;
    Ok(acks)
}

/// The first windows of an environment from `now` that a maintenance may still take: what the
/// planning form offers.
pub async fn open_windows(
    pool: &PgPool,
    caller: &Caller,
    environment_id: Uuid,
    now: DateTime<Utc>,
    days: i64,
) -> Result<Vec<Window>> {
    let schedule = super::plans::schedule(
        pool,
        caller,
        environment_id,
        now,
        now + Duration::days(days.clamp(1, 3 * 366)),
    )
    .await?;
    Ok(schedule.windows)
}

/// The maintenances with these ids.
pub(crate) async fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Maintenance>> {
    load(conn, Some(ids), &MaintenanceQuery::default()).await
}

/// Maintenances of a platform (all when None) that overlap `[from, to)`.
pub(crate) async fn list_in(
    conn: &mut PgConnection,
    platform_id: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Maintenance>> {
    load(
        conn,
        None,
        &MaintenanceQuery {
            platform_id,
            from: Some(from),
            to: Some(to),
            ..MaintenanceQuery::default()
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(category: Category, form: &MaintenanceForm) -> Vec<String> {
        let mut p = Problems::default();
        describes_the_change(&mut p, category, form);
        p.into_fields().into_keys().collect()
    }

    fn item(title: &str, owner: &str, due: u32) -> ActionItem {
        ActionItem {
            id: Uuid::new_v4(),
            maintenance_id: None,
            drill_id: None,
            source: String::new(),
            title: title.into(),
            owner: owner.into(),
            due_on: NaiveDate::from_ymd_opt(2027, 3, due).unwrap(),
            done_at: None,
            done_by: None,
        }
    }

    fn input(title: &str, owner: &str, due: u32) -> ActionItemInput {
        ActionItemInput {
            title: title.into(),
            owner: owner.into(),
            due_on: NaiveDate::from_ymd_opt(2027, 3, due).unwrap(),
        }
    }

    #[test]
    fn a_retrospective_sent_again_adds_no_action_item_twice() {
        let held = [item("Add the node image", "Pat", 1)];
        // The same item again: nothing to add.
        assert_eq!(
            missing_action_items(&held, &[input("Add the node image", "Pat", 1)]),
            Vec::<ActionItemInput>::new()
        );
        // Another owner, due date or title is another item.
        let wanted = [
            input("Add the node image", "Pat", 1),
            input("Add the node image", "Sam", 1),
            input("Add the node image", "Pat", 2),
            input("Drain slower", "Pat", 1),
        ];
        assert_eq!(missing_action_items(&held, &wanted), wanted[1..]);
        // Two identical rows sent on purpose are two items, once.
        let twice = [input("Check PDBs", "Pat", 1), input("Check PDBs", "Pat", 1)];
        assert_eq!(missing_action_items(&[], &twice), twice);
        let both = [item("Check PDBs", "Pat", 1), item("Check PDBs", "Pat", 1)];
        assert!(missing_action_items(&both, &twice).is_empty());
        assert_eq!(missing_action_items(&both[..1], &twice), twice[..1]);
    }

    #[test]
    fn production_repeats_the_version_staging_got_however_it_is_written() {
        assert!(same_kubernetes_version("1.32", "v1.32"));
        assert!(same_kubernetes_version("v1.32.0", "1.32"));
        assert!(same_kubernetes_version("1.31.6", "v1.31.6-eks-2d98532"));
        assert!(!same_kubernetes_version("1.32.1", "1.32"));
        assert!(!same_kubernetes_version("1.31.6", "1.31.4"));
        assert!(!same_kubernetes_version("", "1.32"));
    }

    fn change<'a>(node_image: &'a str, kubernetes_to: &'a str) -> Change<'a> {
        Change {
            category: Category::Minor,
            kubernetes_from: "1.35",
            kubernetes_to,
            node_image,
            components: "CoreDNS 1.12",
        }
    }

    #[test]
    fn production_repeats_every_field_of_what_staging_received() {
        let field = |a: &Change<'_>, b: &Change<'_>| differing_change("staging", a, b).map(|d| d.0);
        let staged = change("Flatcar 4230.2.1", "1.36");
        assert_eq!(field(&staged, &change("Flatcar 4230.2.1", "v1.36")), None);
        assert_eq!(field(&staged, &change(" flatcar  4230.2.1", "1.36")), None);
        assert_eq!(
            field(&staged, &change("Flatcar 4230.2.2", "1.36")),
            Some("node_image")
        );
        // Less than staging received is another combination, untried there.
        assert_eq!(field(&staged, &change("", "1.36")), Some("node_image"));
        assert_eq!(
            field(&staged, &change("Flatcar 4230.2.1", "")),
            Some("kubernetes_to")
        );
        let more_components = Change {
            components: "CoreDNS 1.12, metrics-server 0.8",
            ..change("Flatcar 4230.2.1", "1.36")
        };
        assert_eq!(field(&staged, &more_components), Some("components"));
        let from_elsewhere = Change {
            kubernetes_from: "1.34",
            ..change("Flatcar 4230.2.1", "1.36")
        };
        assert_eq!(field(&staged, &from_elsewhere), Some("kubernetes_from"));
        let major = Change {
            category: Category::Major,
            ..change("Flatcar 4230.2.1", "1.36")
        };
        assert_eq!(field(&staged, &major), Some("category"));
        let (_, why) =
            differing_change("staging", &staged, &change("Flatcar 4230.2.2", "1.36")).unwrap();
        assert_eq!(
            why,
            "node_image differs: staging received “Flatcar 4230.2.1”, this one “Flatcar 4230.2.2”; repeat the same change"
        );
    }

    #[test]
    fn a_planned_change_says_what_changes_and_every_one_how_it_is_undone() {
        let empty = MaintenanceForm::default();
        for category in [Category::SecurityPatch, Category::Minor, Category::Major] {
            assert_eq!(
                problems(category, &empty),
                ["changes", "contingency_plan"],
                "{category:?}"
            );
        }
        assert_eq!(problems(Category::Emergency, &empty), ["contingency_plan"]);
        let node_image = MaintenanceForm {
            node_image: "Flatcar 4230.2.1".into(),
            ..MaintenanceForm::default()
        };
        assert_eq!(
            problems(Category::SecurityPatch, &node_image),
            ["contingency_plan"]
        );
        let undone = MaintenanceForm {
            contingency_plan: "Roll the node pool back to the previous image.".into(),
            ..node_image
        };
        assert!(problems(Category::SecurityPatch, &undone).is_empty());
        let planned = MaintenanceForm {
            kubernetes_to: "1.36".into(),
            contingency_plan: "Restore etcd from the snapshot.".into(),
            ..MaintenanceForm::default()
        };
        assert!(problems(Category::Major, &planned).is_empty());
    }
}
