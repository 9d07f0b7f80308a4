//! Maintenance plans, blackouts and notice settings in PostgreSQL, and the schedules they give.
//!
//! A plan either has its own rhythm (an RRULE) or follows another environment of the same
//! platform by a soak period in working days. Saving a plan, or adding a blackout, re-validates
//! the skew of every following environment over the next 12 months.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::*;
use super::recurrence::Schedule;
use super::{
    Blackout, BlackoutPolicy, Plan, PlanInput, ProductionPlan, ProductionPlanInput, SkewViolation,
    WorkingDays, check_skew, from_rrule, schedule_between, schedules,
};
use crate::audit;
use crate::auth::Action;
use crate::db::{Caller, PgPool};
use crate::error::{Error, Result, internal};
use crate::validate::Problems;

/// How far ahead the skew is validated.
pub const SKEW_HORIZON_DAYS: i64 = 366;

struct PlanRow {
    environment_id: Uuid,
    environment_slug: String,
    environment_name: String,
    platform_id: Uuid,
    rrule: Option<String>,
    follows_environment_id: Option<Uuid>,
    follows_slug: Option<String>,
    soak_working_days: Option<i32>,
    start_time: NaiveTime,
    time_zone: String,
    duration_hours: i32,
    blackout_policy: String,
    allowed_categories: Vec<String>,
    revision: i32,
    version: i32,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

fn policy_str(p: BlackoutPolicy) -> &'static str {
    match p {
        BlackoutPolicy::Skip => "skip",
        BlackoutPolicy::MoveToNextAllowedDay => "move_to_next_allowed_day",
    }
}

fn parse_policy(s: &str) -> BlackoutPolicy {
    if s == "move_to_next_allowed_day" {
        BlackoutPolicy::MoveToNextAllowedDay
    } else {
        BlackoutPolicy::Skip
    }
}

impl PlanRow {
    fn into_plan(self) -> Result<MaintenancePlan> {
        let rhythm = match (self.rrule, self.follows_environment_id) {
            (_, Some(id)) => PlanRhythm::Follows {
                environment_id: id,
                environment_slug: self.follows_slug.unwrap_or_default(),
                soak_working_days: self.soak_working_days.unwrap_or(1),
            },
            (rrule, None) => {
                let rrule = rrule.unwrap_or_default();
                // Stored rules were written by `to_rrule` after validation, so one that does not
                // parse back is a fault of ours: never guess a rhythm (a daily plan would offer
                // windows nobody agreed to).
                let recurrence = from_rrule(&rrule).map_err(|e| {
                    internal(&format!(
                        "the stored rule {rrule:?} of environment {} does not parse: {e}",
                        self.environment_id
                    ))
                })?;
                PlanRhythm::Own {
                    recurrence,
                    rrule,
                    soak_working_days: self.soak_working_days,
                }
            }
        };
        Ok(MaintenancePlan {
            environment_id: self.environment_id,
            environment_slug: self.environment_slug,
            environment_name: self.environment_name,
            platform_id: self.platform_id,
            rhythm,
            start_time: self.start_time.format("%H:%M").to_string(),
            time_zone: self.time_zone,
            duration_hours: self.duration_hours,
            blackout_policy: parse_policy(&self.blackout_policy),
            allowed_categories: self
                .allowed_categories
                .iter()
                .filter_map(|c| Category::parse(c))
                .collect(),
            revision: self.revision,
            version: self.version,
            updated_by: self.updated_by,
            updated_at: self.updated_at,
        })
    }
}

/// The plans of a platform (all of them when `platform_id` is None), by environment position.
pub(crate) async fn load_plans(
    conn: &mut PgConnection,
    platform_id: Option<Uuid>,
) -> Result<Vec<MaintenancePlan>> {
    let rows = sqlx::query_as!(
        PlanRow,
        r#"SELECT p.environment_id, e.slug AS environment_slug, e.name AS environment_name,
                  e.platform_id, p.rrule, p.follows_environment_id, f.slug AS "follows_slug?",
                  p.soak_working_days, p.start_time, p.time_zone, p.duration_hours,
                  p.blackout_policy, p.allowed_categories, p.revision, p.version, p.updated_by,
                  p.updated_at
           FROM maintenance_plans p
           JOIN environments e ON e.id = p.environment_id
           LEFT JOIN environments f ON f.id = p.follows_environment_id
           WHERE ($1::uuid IS NULL OR e.platform_id = $1) AND e.archived_at IS NULL
           ORDER BY e.platform_id, e.position, e.slug"#,
        platform_id
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(PlanRow::into_plan).collect()
}

/// Blackouts of a platform (all of them when None).
pub(crate) async fn load_blackouts(
    conn: &mut PgConnection,
    platform_id: Option<Uuid>,
) -> Result<Vec<BlackoutEntry>> {
    let rows = sqlx::query!(
        r#"SELECT b.id, b.platform_id, b.environment_id, e.slug AS "environment_slug?",
                  b.first_day, b.last_day, b.reason, b.created_by, b.created_at
           FROM calendar_blackouts b LEFT JOIN environments e ON e.id = b.environment_id
           WHERE $1::uuid IS NULL OR b.platform_id = $1
           ORDER BY b.first_day, b.created_at"#,
        platform_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|b| BlackoutEntry {
            id: b.id,
            platform_id: b.platform_id,
            environment_id: b.environment_id,
            environment_slug: b.environment_slug,
            first_day: b.first_day,
            last_day: b.last_day,
            reason: b.reason,
            created_by: b.created_by,
            created_at: b.created_at,
            conflicts: Vec::new(),
        })
        .collect())
}

/// Fills in the maintenances each blackout is in the way of: planned or announced ones that take
/// a window (an emergency takes none, and a blackout does not stop it) on the blackout's
/// environment or, for a platform-wide one, any of the platform's environments, when any part of
/// the maintenance falls on the blackout's days: the rule announcing and starting it apply
/// ([`Calendar::in_blackout`]), so an overnight window that runs into the blackout is named too.
async fn with_conflicts(
    conn: &mut PgConnection,
    cal: &Calendar,
    mut entries: Vec<BlackoutEntry>,
) -> Result<Vec<BlackoutEntry>> {
    let ids: Vec<Uuid> = entries.iter().map(|b| b.id).collect();
    // Candidates: a day either side of the blackout's days covers every zone's local days; the
    // exact test is below.
    let rows = sqlx::query!(
        r#"SELECT b.id AS blackout_id, m.id, m.title, e.id AS environment_id, e.slug,
                  m.window_date AS "window_date!", m.state, m.starts_at, m.ends_at
           FROM calendar_blackouts b
           JOIN environments e ON e.platform_id = b.platform_id
                              AND (b.environment_id IS NULL OR e.id = b.environment_id)
           JOIN maintenances m ON m.environment_id = e.id
           WHERE b.id = ANY($1) AND m.state IN ('planned', 'announced')
             AND m.window_date IS NOT NULL AND m.category <> 'emergency'
             AND m.starts_at < (b.last_day + 2)::timestamp AT TIME ZONE 'UTC'
             AND m.ends_at > (b.first_day - 1)::timestamp AT TIME ZONE 'UTC'
           ORDER BY m.window_date, e.position, m.title"#,
        &ids
    )
    .fetch_all(conn)
    .await?;
    for r in rows {
        if let Some(entry) = entries.iter_mut().find(|b| b.id == r.blackout_id) {
            let blackout = Blackout {
                first_day: entry.first_day,
                last_day: entry.last_day,
                reason: entry.reason.clone(),
            };
            if !cal.in_blackout(&blackout, r.environment_id, r.starts_at, r.ends_at) {
                continue;
            }
            entry.conflicts.push(BlackoutConflict {
                maintenance_id: r.id,
                title: r.title,
                environment_slug: r.slug,
                window_date: r.window_date,
                state: r.state,
            });
        }
    }
    Ok(entries)
}

/// The pure rules' view of a stored plan.
enum Rules {
    Own(Plan),
    Follows { leader: Uuid, plan: ProductionPlan },
}

fn rules_of(plan: &MaintenancePlan) -> Result<Rules> {
    match &plan.rhythm {
        PlanRhythm::Own { recurrence, .. } => Ok(Rules::Own(
            PlanInput {
                recurrence: recurrence.clone(),
                start_time: plan.start_time.clone(),
                time_zone: plan.time_zone.clone(),
                duration_hours: i64::from(plan.duration_hours),
                blackout_policy: plan.blackout_policy,
            }
            .validate()?,
        )),
        PlanRhythm::Follows {
            environment_id,
            soak_working_days,
            ..
        } => Ok(Rules::Follows {
            leader: *environment_id,
            plan: ProductionPlanInput {
                start_time: plan.start_time.clone(),
                time_zone: plan.time_zone.clone(),
                duration_hours: i64::from(plan.duration_hours),
                soak_working_days: i64::from(*soak_working_days),
                blackout_policy: plan.blackout_policy,
            }
            .validate()?,
        }),
    }
}

/// Plans and blackouts of one or more platforms, ready to expand.
pub(crate) struct Calendar {
    pub plans: HashMap<Uuid, MaintenancePlan>,
    rules: HashMap<Uuid, Rules>,
    /// Production environments with a rhythm of their own: the environment before them
    /// ([`super::rules::upstream`]) and the soak their windows keep after its windows.
    upstream: HashMap<Uuid, (Uuid, u8)>,
    /// Blackouts per platform: (environment or None for all, blackout).
    blackouts: HashMap<Uuid, Vec<(Option<Uuid>, Blackout)>>,
}

/// How far before a period the environment before a production environment with its own rhythm
/// is expanded, besides twice the soak: a monthly window, one skipped by a blackout, and a margin.
const UPSTREAM_LOOKBACK_DAYS: i64 = 70;

/// A computed schedule: windows after blackouts, skipped ones and skew violations.
pub(crate) struct Computed {
    pub schedule: Schedule,
    pub violations: Vec<SkewViolation>,
}

impl Calendar {
    pub(crate) async fn load(conn: &mut PgConnection, platform_id: Option<Uuid>) -> Result<Self> {
        let plans = load_plans(conn, platform_id).await?;
        let entries = load_blackouts(conn, platform_id).await?;
        let environments = sqlx::query_as!(
            crate::model::Environment,
            "SELECT id, platform_id, slug, name, position, is_production, archived_at, version,
                    created_at, updated_at
             FROM environments WHERE $1::uuid IS NULL OR platform_id = $1
             ORDER BY platform_id, position",
            platform_id
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(Self::new(plans, entries, &environments))
    }

    pub(crate) fn new(
        plans: Vec<MaintenancePlan>,
        entries: Vec<BlackoutEntry>,
        environments: &[crate::model::Environment],
    ) -> Self {
        let mut blackouts: HashMap<Uuid, Vec<(Option<Uuid>, Blackout)>> = HashMap::new();
        for b in entries {
            blackouts.entry(b.platform_id).or_default().push((
                b.environment_id,
                Blackout {
                    first_day: b.first_day,
                    last_day: b.last_day,
                    reason: b.reason,
                },
            ));
        }
        let mut platforms: HashMap<Uuid, Vec<crate::model::Environment>> = HashMap::new();
        for e in environments {
            platforms.entry(e.platform_id).or_default().push(e.clone());
        }
        let mut rules = HashMap::new();
        let mut upstream = HashMap::new();
        let mut by_env = HashMap::new();
        for p in plans {
            if let Ok(r) = rules_of(&p) {
                rules.insert(p.environment_id, r);
            }
            if let PlanRhythm::Own {
                soak_working_days, ..
            } = &p.rhythm
            {
                let platform = platforms
                    .get(&p.platform_id)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let up = platform
                    .iter()
                    .find(|e| e.id == p.environment_id)
                    .and_then(|env| super::rules::upstream(env, Some(&p), platform));
                if let Some(up) = up {
                    let soak = soak_working_days
                        .and_then(|d| u8::try_from(d).ok())
                        .unwrap_or(super::skew::MIN_SOAK_WORKING_DAYS);
                    upstream.insert(p.environment_id, (up.id, soak));
                }
            }
            by_env.insert(p.environment_id, p);
        }
        Calendar {
            plans: by_env,
            rules,
            upstream,
            blackouts,
        }
    }

    fn blackouts_of(&self, environment_id: Uuid) -> Vec<Blackout> {
        let Some(plan) = self.plans.get(&environment_id) else {
            return Vec::new();
        };
        self.blackouts
            .get(&plan.platform_id)
            .map(|list| {
                list.iter()
                    .filter(|(env, _)| env.is_none_or(|e| e == environment_id))
                    .map(|(_, b)| b.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The zone an environment's blackout days are local days in: its plan's (UTC for an
    /// environment without one), as the schedule counts them.
    fn zone_of(&self, environment_id: Uuid) -> chrono_tz::Tz {
        self.plans
            .get(&environment_id)
            .and_then(|p| p.time_zone.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::UTC)
    }

    /// True when any part of `[from, to)` falls on the blackout's days, as local days of the
    /// environment (see [`Self::zone_of`]): the one rule for "this maintenance is in the
    /// blackout", whether announcing or starting it, or listing a blackout's conflicts.
    pub(crate) fn in_blackout(
        &self,
        blackout: &Blackout,
        environment_id: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> bool {
        blackout.touches(self.zone_of(environment_id), from, to)
    }

    /// The first blackout of the platform, or of the environment, that any part of `[from, to)`
    /// falls on ([`Self::in_blackout`]).
    pub(crate) fn blackout_over(
        &self,
        platform_id: Uuid,
        environment_id: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<&Blackout> {
        self.blackouts
            .get(&platform_id)?
            .iter()
            .find_map(|(env, b)| {
                (env.is_none_or(|e| e == environment_id)
                    && self.in_blackout(b, environment_id, from, to))
                .then_some(b)
            })
    }

    /// The environment's window that starts on the local day `date`, if it has one.
    fn window_on(&self, environment_id: Uuid, date: NaiveDate) -> Option<super::Occurrence> {
        let around = date.and_time(NaiveTime::MIN).and_utc();
        self.compute(
            environment_id,
            around - Duration::days(3),
            around + Duration::days(4),
        )?
        .schedule
        .occurrences
        .into_iter()
        .find(|o| o.local_date == date)
    }

    /// The days a soak before this environment counts: Monday to Friday except its blackouts
    /// (its own and its platform's, where holidays are entered).
    pub(crate) fn working_days(&self, environment_id: Uuid) -> WorkingDays {
        WorkingDays::new(&self.blackouts_of(environment_id))
    }

    /// The environment's schedule over `[from, to)`, with skew violations for a following one
    /// and for a production environment with its own rhythm (against the latest window of the
    /// environment before it that starts earlier).
    pub(crate) fn compute(
        &self,
        environment_id: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<Computed> {
        match self.rules.get(&environment_id)? {
            Rules::Own(plan) => {
                let blackouts = self.blackouts_of(environment_id);
                // Windows that start in the period after blackouts, also those moved into it.
                let mut schedule = schedule_between(plan, &blackouts, from, to);
                let violations = match self.upstream.get(&environment_id) {
                    // The environment before it has no plan: nothing to compare with.
                    Some((up, _)) if !self.rules.contains_key(up) => Vec::new(),
                    Some((up, soak)) => {
                        let lookback =
                            Duration::days(UPSTREAM_LOOKBACK_DAYS + 2 * i64::from(*soak));
                        let up_from = from.checked_sub_signed(lookback).unwrap_or(from);
                        // The environment before it comes earlier in the platform's order, so
                        // this recursion ends.
                        let up_sched = self
                            .compute(*up, up_from, to)
                            .map(|c| c.schedule)
                            .unwrap_or_default();
                        // Each window is paired with the latest upstream window that starts
                        // before it: what the calendar shows it following, and what the soak
                        // is checked against.
                        super::skew::pair_with_latest(&up_sched, &mut schedule);
                        check_skew(&up_sched, &schedule, *soak, &WorkingDays::new(&blackouts))
                    }
                    None => Vec::new(),
                };
                Some(Computed {
                    schedule,
                    violations,
                })
            }
            Rules::Follows { leader, plan } => {
                let Some(Rules::Own(lead)) = self.rules.get(leader) else {
                    return Some(Computed {
                        schedule: Schedule::default(),
                        violations: Vec::new(),
                    });
                };
                let (lead_sched, sched) = schedules(
                    lead,
                    &self.blackouts_of(*leader),
                    plan,
                    &self.blackouts_of(environment_id),
                    from,
                    to,
                )?;
                let violations = check_skew(
                    &lead_sched,
                    &sched,
                    plan.soak_working_days,
                    &self.working_days(environment_id),
                );
                Some(Computed {
                    schedule: sched,
                    violations,
                })
            }
        }
    }

    /// The slug of the environment whose windows `environment_id`'s windows follow: the one its
    /// plan follows, or for a production plan with its own rhythm the environment before it.
    pub(crate) fn leader_slug(&self, environment_id: Uuid) -> Option<&str> {
        let plan = self.plans.get(&environment_id)?;
        match &plan.rhythm {
            PlanRhythm::Follows {
                environment_slug, ..
            } => Some(environment_slug),
            PlanRhythm::Own { .. } => {
                let (up, _) = self.upstream.get(&environment_id)?;
                self.plans.get(up).map(|p| p.environment_slug.as_str())
            }
        }
    }

    /// The working days an environment's changes soak in the environment before it: the soak of
    /// a plan that follows another, or of a production plan with its own rhythm. None for an
    /// environment without such a plan.
    pub(crate) fn soak_of(&self, environment_id: Uuid) -> Option<u8> {
        match self.rules.get(&environment_id)? {
            Rules::Follows { plan, .. } => Some(plan.soak_working_days),
            Rules::Own(_) => self.upstream.get(&environment_id).map(|(_, soak)| *soak),
        }
    }

    /// The environments whose skew depends on `leader`: those that follow it, and production
    /// environments with their own rhythm that come right after it.
    fn followers(&self, leader: Uuid) -> Vec<Uuid> {
        let mut out: Vec<Uuid> = self
            .rules
            .iter()
            .filter_map(|(env, r)| match r {
                Rules::Follows { leader: l, .. } if *l == leader => Some(*env),
                _ => None,
            })
            .chain(
                self.upstream
                    .iter()
                    .filter(|(_, (up, _))| *up == leader)
                    .map(|(env, _)| *env),
            )
            .collect();
        out.sort();
        out
    }
}

/// "Thu 24 Dec 2026" or "Thu 24 Dec 2026 to Fri 1 Jan 2027".
pub(crate) fn blackout_days(b: &Blackout) -> String {
    if b.first_day == b.last_day {
        day(b.first_day)
    } else {
        format!("{} to {}", day(b.first_day), day(b.last_day))
    }
}

/// What a change of a platform's plans or blackouts (`before` to `after`) does to what is already
/// planned: planned or announced maintenances in a window that now fall in a blackout or whose
/// window went or moved, and skew violations over the next 12 months that were not there before.
/// Only what the change caused is named, so an old problem is not blamed on it.
async fn consequences(
    conn: &mut PgConnection,
    platform_id: Uuid,
    before: &Calendar,
    after: &Calendar,
    now: DateTime<Utc>,
) -> Result<Vec<CalendarWarning>> {
    let horizon = now + Duration::days(SKEW_HORIZON_DAYS);
    let upcoming = super::maintenances::list_in(
        conn,
        Some(platform_id),
        now,
        now + Duration::days(super::MAX_EXPAND_DAYS),
    )
    .await?;
    let mut warnings = Vec::new();
    for m in upcoming {
        let Some(date) = m.window_date else { continue };
        if !m.state.is_upcoming() || m.category == Category::Emergency || m.starts_at <= now {
            continue;
        }
        let label = format!("“{}” ({}, {})", m.title, m.environment_slug, day(date));
        let in_blackout = |cal: &Calendar| {
            cal.blackout_over(platform_id, m.environment_id, m.starts_at, m.ends_at)
                .cloned()
        };
        if let Some(b) = in_blackout(after) {
            if in_blackout(before).is_none() {
                warnings.push(CalendarWarning {
                    kind: CalendarWarningKind::InBlackout,
                    environment_slug: m.environment_slug.clone(),
                    maintenance_id: Some(m.id),
                    date,
                    message: format!(
                        "{label} falls in the blackout “{}” ({}): it cannot be announced or started then. Move it to another window, or cancel it.",
                        b.reason,
                        blackout_days(&b)
                    ),
                });
            }
            continue;
        }
        let takes = |w: &super::Occurrence| w.start_utc == m.starts_at && w.end_utc == m.ends_at;
        let was = before.window_on(m.environment_id, date);
        let is = after.window_on(m.environment_id, date);
        if !was.as_ref().is_some_and(takes) || is.as_ref().is_some_and(takes) {
            continue;
        }
        let message = match is {
            None => format!(
                "{label} is no longer in a window: {} has no window that day any more. Move it to another window, or cancel it.",
                m.environment_slug
            ),
            Some(w) => format!(
                "{label} no longer matches its window: that day's window now runs {}–{} UTC, the maintenance {}–{} UTC. Edit it to take the window again, or cancel it.",
                w.start_utc.format("%H:%M"),
                w.end_utc.format("%H:%M"),
                m.starts_at.format("%H:%M"),
                m.ends_at.format("%H:%M")
            ),
        };
        warnings.push(CalendarWarning {
            kind: CalendarWarningKind::NotAWindow,
            environment_slug: m.environment_slug.clone(),
            maintenance_id: Some(m.id),
            date,
            message,
        });
    }
    let mut environments: Vec<&MaintenancePlan> = after.plans.values().collect();
    environments.sort_by_key(|p| p.environment_slug.as_str());
    for plan in environments {
        let id = plan.environment_id;
        let old: Vec<(NaiveDate, Option<NaiveDate>)> = before
            .compute(id, now, horizon)
            .map(|c| c.violations)
            .unwrap_or_default()
            .into_iter()
            .map(|v| (v.production_date, v.staging_date))
            .collect();
        let new = after
            .compute(id, now, horizon)
            .map(|c| c.violations)
            .unwrap_or_default();
        warnings.extend(
            new.into_iter()
                .filter(|v| !old.contains(&(v.production_date, v.staging_date)))
                .map(|v| CalendarWarning {
                    kind: CalendarWarningKind::SkewViolation,
                    environment_slug: plan.environment_slug.clone(),
                    maintenance_id: None,
                    date: v.production_date,
                    message: v.message,
                }),
        );
    }
    warnings.sort_by_key(|w| w.date);
    Ok(warnings)
}

/// The schedule model of an environment's schedule in `cal`.
pub(crate) fn schedule_view(
    cal: &Calendar,
    environment_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> EnvironmentSchedule {
    let computed = cal.compute(environment_id, from, to).unwrap_or(Computed {
        schedule: Schedule::default(),
        violations: Vec::new(),
    });
    EnvironmentSchedule {
        environment_id,
        plan: cal.plans.get(&environment_id).cloned(),
        follows_environment: cal.leader_slug(environment_id).map(str::to_owned),
        windows: computed
            .schedule
            .occurrences
            .into_iter()
            .map(|o| Window {
                starts_at: o.start_utc,
                ends_at: o.end_utc,
                local_date: o.local_date,
                moved_from: (o.local_date != o.nominal_date).then_some(o.nominal_date),
                moved_by: o.moved_by,
                follows: o.follows,
            })
            .collect(),
        skipped: computed
            .schedule
            .skipped
            .into_iter()
            .map(|k| SkippedWindow {
                nominal_date: k.nominal_date,
                reason: k.reason,
            })
            .collect(),
        skew_violations: computed.violations,
    }
}

struct EnvRef {
    platform_id: Uuid,
    slug: String,
    position: i32,
    is_production: bool,
    archived: bool,
}

async fn environment(conn: &mut PgConnection, id: Uuid) -> Result<EnvRef> {
    let row = sqlx::query!(
        "SELECT platform_id, slug, position, is_production,
                archived_at IS NOT NULL AS \"archived!\"
         FROM environments WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("environment"))?;
    Ok(EnvRef {
        platform_id: row.platform_id,
        slug: row.slug,
        position: row.position,
        is_production: row.is_production,
        archived: row.archived,
    })
}

/// The class of the advisory locks that order changes to a platform's calendar.
const CALENDAR_LOCK: i32 = 0x6361_6c00;

/// Takes the lock on a platform's calendar until the transaction ends. Changes to what the
/// windows are (plans, blackouts) take it `exclusive`ly, one at a time, so each reads the
/// calendar as the one before left it: two at once (an own-rhythm production plan saved while a
/// blackout moves staging, say) would each check the soak, and report consequences, without the
/// other. Planning a maintenance takes it shared: maintenances do not change the windows, but a
/// window or blackout change waits for them, so its warnings name every maintenance it affects.
/// Taken before any row lock, so the order of locks is the same everywhere.
pub async fn lock_calendar(
    conn: &mut PgConnection,
    platform_id: Uuid,
    exclusive: bool,
) -> Result<()> {
    let sql = if exclusive {
        "SELECT pg_advisory_xact_lock($1, hashtext($2))"
    } else {
        "SELECT pg_advisory_xact_lock_shared($1, hashtext($2))"
    };
    sqlx::query(sql)
        .bind(CALENDAR_LOCK)
        .bind(platform_id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// The environment whose plan is saved or removed, locked until the transaction ends: saves and
/// removals of one plan take turns, and a plan cannot start to follow it meanwhile (that takes a
/// share lock on it, see [`lock_leader`]). `FOR NO KEY UPDATE` leaves rows that merely refer to the
/// environment (a maintenance planned in it) free to be written.
async fn lock_environment(conn: &mut PgConnection, id: Uuid) -> Result<EnvRef> {
    // Environments never change platform, so the unlocked read names the right calendar.
    let platform_id = environment(&mut *conn, id).await?.platform_id;
    lock_calendar(&mut *conn, platform_id, true).await?;
    sqlx::query_as!(
        EnvRef,
        "SELECT platform_id, slug, position, is_production,
                archived_at IS NOT NULL AS \"archived!\"
         FROM environments WHERE id = $1 FOR NO KEY UPDATE",
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("environment"))
}

/// The environment a plan is to follow, share-locked until the transaction ends: it is not
/// archived, nor its own plan changed or removed, while the plan that follows it is saved.
async fn lock_leader(conn: &mut PgConnection, id: Uuid) -> Result<EnvRef> {
    sqlx::query_as!(
        EnvRef,
        "SELECT platform_id, slug, position, is_production,
                archived_at IS NOT NULL AS \"archived!\"
         FROM environments WHERE id = $1 FOR SHARE",
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("environment"))
}

/// The parts of a checked plan form that are stored as they are.
struct CheckedForm {
    rrule: Option<String>,
    /// The environment followed and the soak after it.
    follows: Option<(Uuid, i32)>,
    /// A production environment's own rhythm: the soak after the environment before it.
    own_soak: Option<i32>,
    categories: Vec<String>,
}

/// An environment's plan, if it has one.
#[tracing::instrument(skip_all, fields(%environment_id))]
pub async fn plan(
    pool: &PgPool,
    caller: &Caller,
    environment_id: Uuid,
) -> Result<Option<MaintenancePlan>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    let env = environment(&mut conn, environment_id).await?;
    Ok(load_plans(&mut conn, Some(env.platform_id))
        .await?
        .into_iter()
        .find(|p| p.environment_id == environment_id))
}

/// The plans of a platform, by environment order.
pub async fn plans(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
) -> Result<Vec<MaintenancePlan>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    crate::platforms::fetch(&mut conn, platform_id, false).await?;
    load_plans(&mut conn, Some(platform_id)).await
}

/// Checks a plan form: exactly one rhythm, a leader on the same platform that comes earlier and
/// has its own rhythm, valid timing and categories; a soak with a rhythm of its own only for a
/// production environment.
async fn validate_form(
    conn: &mut PgConnection,
    environment_id: Uuid,
    env: &EnvRef,
    form: &PlanForm,
) -> Result<CheckedForm> {
    let mut p = Problems::default();
    let timing_input = PlanInput {
        recurrence: form
            .recurrence
            .clone()
            .unwrap_or(super::Recurrence::Daily {}),
        start_time: form.start_time.clone(),
        time_zone: form.time_zone.clone(),
        duration_hours: form.duration_hours,
        blackout_policy: form.blackout_policy,
    };
    let mut rrule = None;
    let mut follows = None;
    let mut own_soak = None;
    match (&form.recurrence, form.follows_environment_id) {
        (Some(_), Some(_)) => p.add(
            "follows_environment_id",
            "choose either a rhythm of its own or an environment to follow, not both",
        ),
        (None, None) => p.add(
            "recurrence",
            "is required (or choose an environment to follow)",
        ),
        (Some(_), None) => {
            if let Err(Error::Invalid { fields }) = timing_input.validate() {
                for (k, v) in fields {
                    p.add(&k, v);
                }
            } else if let Ok(plan) = timing_input.validate() {
                rrule = Some(plan.recurrence.to_rrule());
            }
            let soak_range = i64::from(super::skew::MIN_SOAK_WORKING_DAYS)
                ..=i64::from(super::skew::MAX_SOAK_WORKING_DAYS);
            match form.soak_working_days {
                None => {}
                Some(_) if !env.is_production => p.add(
                    "soak_working_days",
                    format!(
                        "{} is not a production environment: a soak is kept after another environment only by production (or by an environment that follows another)",
                        env.slug
                    ),
                ),
                Some(d) if !soak_range.contains(&d) => p.add(
                    "soak_working_days",
                    format!(
                        "must be between {} and {} working days",
                        soak_range.start(),
                        soak_range.end()
                    ),
                ),
                Some(d) => own_soak = i32::try_from(d).ok(),
            }
        }
        (None, Some(leader)) => {
            let soak = form.soak_working_days.unwrap_or(0);
            if let Err(Error::Invalid { fields }) = (ProductionPlanInput {
                start_time: form.start_time.clone(),
                time_zone: form.time_zone.clone(),
                duration_hours: form.duration_hours,
                soak_working_days: soak,
                blackout_policy: form.blackout_policy,
            })
            .validate()
            {
                for (k, v) in fields {
                    p.add(&k, v);
                }
            }
            if leader == environment_id {
                p.add(
                    "follows_environment_id",
                    "an environment cannot follow itself",
                );
            } else {
                match lock_leader(conn, leader).await {
                    Err(_) => p.add("follows_environment_id", "no such environment"),
                    Ok(l) if l.platform_id != env.platform_id || l.archived => p.add(
                        "follows_environment_id",
                        "must be an active environment of the same platform",
                    ),
                    Ok(l) if l.position >= env.position => p.add(
                        "follows_environment_id",
                        format!(
                            "{} does not come before {} in the platform's order; production follows staging, not the other way round",
                            l.slug, env.slug
                        ),
                    ),
                    Ok(l) => {
                        let own = sqlx::query_scalar!(
                            "SELECT rrule IS NOT NULL AS \"own!\" FROM maintenance_plans WHERE environment_id = $1",
                            leader
                        )
                        .fetch_optional(&mut *conn)
                        .await?;
                        match own {
                            None => p.add(
                                "follows_environment_id",
                                format!("{} has no maintenance plan yet: plan it first", l.slug),
                            ),
                            Some(false) => p.add(
                                "follows_environment_id",
                                format!(
                                    "{} follows another environment itself; follow the environment that leads",
                                    l.slug
                                ),
                            ),
                            Some(true) => {
                                follows = Some((leader, i32::try_from(soak).unwrap_or(1)));
                            }
                        }
                    }
                }
            }
        }
    }
    let mut categories: Vec<Category> = form
        .allowed_categories
        .iter()
        .copied()
        .filter(|c| *c != Category::Emergency)
        .collect();
    categories.sort();
    categories.dedup();
    if categories.is_empty() {
        p.add(
            "allowed_categories",
            "choose at least one kind of change the windows may carry",
        );
    }
    p.finish()?;
    Ok(CheckedForm {
        rrule,
        follows,
        own_soak,
        categories: categories.iter().map(|c| c.as_str().to_owned()).collect(),
    })
}

/// `environment_id` and the environments whose skew depends on it in `cal`: those that follow it
/// or come right after it, and those that depend on them in turn (production after production
/// after staging).
fn dependents(cal: &Calendar, environment_id: Uuid) -> Vec<Uuid> {
    let mut envs = vec![environment_id];
    let mut i = 0;
    while i < envs.len() {
        for f in cal.followers(envs[i]) {
            if !envs.contains(&f) {
                envs.push(f);
            }
        }
        i += 1;
    }
    envs
}

/// What a change of `environment_id`'s plan (`before` to `after`) does to the skew over the next
/// 12 months of the environments that depend on it. Violations the change introduces (a
/// production window and the staging window it is compared with that were not in violation
/// before) refuse it, as a field error explaining each by date. Violations that were there
/// before and stay (a blackout added since broke the soak, for example) do not block an
/// unrelated edit: they come back as warnings, so they are seen and fixed where they arise.
fn check_platform_skew(
    before: &Calendar,
    after: &Calendar,
    environment_id: Uuid,
    field: &str,
    now: DateTime<Utc>,
) -> Result<Vec<CalendarWarning>> {
    let to = now + Duration::days(SKEW_HORIZON_DAYS);
    let violations = |cal: &Calendar, env: Uuid| {
        cal.compute(env, now, to)
            .map(|c| c.violations)
            .unwrap_or_default()
    };
    let mut introduced: Vec<SkewViolation> = Vec::new();
    let mut kept: Vec<CalendarWarning> = Vec::new();
    for env in dependents(after, environment_id) {
        let old: Vec<(NaiveDate, Option<NaiveDate>)> = violations(before, env)
            .into_iter()
            .map(|v| (v.production_date, v.staging_date))
            .collect();
        for v in violations(after, env) {
            if !old.contains(&(v.production_date, v.staging_date)) {
                introduced.push(v);
                continue;
            }
            kept.push(CalendarWarning {
                kind: CalendarWarningKind::SkewViolation,
                environment_slug: after
                    .plans
                    .get(&env)
                    .map(|p| p.environment_slug.clone())
                    .unwrap_or_default(),
                maintenance_id: None,
                date: v.production_date,
                message: format!("{} This was so before this change too.", v.message),
            });
        }
    }
    if introduced.is_empty() {
        return Ok(kept);
    }
    introduced.sort_by_key(|v| v.production_date);
    let n = introduced.len();
    let mut message = introduced
        .iter()
        .take(3)
        .map(|v| v.message.clone())
        .collect::<Vec<_>>()
        .join(" ");
    if n > 3 {
        message.push_str(&format!(" ({} more in the next 12 months.)", n - 3));
    }
    Err(Error::invalid(field, message))
}

/// Creates or replaces an environment's plan. A stale `base_version` is a conflict, checked with
/// the environment locked, so of two saves of the same version one wins and the other is stale;
/// a plan that would break the soak period in the next 12 months where it held before is refused
/// with every such violation explained by date. The feed revision of the plans that follow it
/// grows too. The answer warns of planned or announced maintenances whose window went or moved,
/// and of soak violations that were there before and remain.
#[tracing::instrument(skip_all, fields(%environment_id))]
pub async fn save_plan(
    pool: &PgPool,
    caller: &Caller,
    environment_id: Uuid,
    form: PlanForm,
    now: DateTime<Utc>,
) -> Result<PlanSaved> {
    caller.actor.authorize(Action::ManageCalendar)?;
    let mut tx = pool.begin().await?;
    // Everything below, the version compare included, happens under this lock.
    let env = lock_environment(&mut tx, environment_id).await?;
    if env.archived {
        return Err(Error::invalid(
            "environment_id",
            "is archived: it gets no maintenance plan",
        ));
    }
    let CheckedForm {
        rrule,
        follows,
        own_soak,
        categories,
    } = validate_form(&mut tx, environment_id, &env, &form).await?;
    let start = NaiveTime::parse_from_str(form.start_time.trim(), "%H:%M")
        .map_err(|_| Error::invalid("start_time", "must be a time of day such as 22:00"))?;
    let was = Calendar::load(&mut tx, Some(env.platform_id)).await?;
    let before = was.plans.get(&environment_id).cloned();
    match &before {
        Some(b) if b.version != form.base_version => {
            return Err(Error::Stale {
                message: format!(
                    "The plan of {} was changed by {} since you opened it; reload to see the change.",
                    env.slug, b.updated_by
                ),
            });
        }
        None if form.base_version != 0 => {
            return Err(Error::Stale {
                message: "The plan was removed since you opened it; reload.".into(),
            });
        }
        _ => {}
    }
    if follows.is_some() {
        let followed_by = sqlx::query_scalar!(
            "SELECT count(*) AS \"n!\" FROM maintenance_plans WHERE follows_environment_id = $1",
            environment_id
        )
        .fetch_one(&mut *tx)
        .await?;
        if followed_by > 0 {
            return Err(Error::invalid(
                "follows_environment_id",
                format!(
                    "other environments follow {}; it needs a rhythm of its own",
                    env.slug
                ),
            ));
        }
    }
    // The version is compared again by the write itself: a plan written since (which the lock
    // rules out) is never overwritten.
    let written = sqlx::query!(
        "INSERT INTO maintenance_plans (environment_id, rrule, follows_environment_id,
             soak_working_days, start_time, time_zone, duration_hours, blackout_policy,
             allowed_categories, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (environment_id) DO UPDATE SET
             rrule = EXCLUDED.rrule, follows_environment_id = EXCLUDED.follows_environment_id,
             soak_working_days = EXCLUDED.soak_working_days, start_time = EXCLUDED.start_time,
             time_zone = EXCLUDED.time_zone, duration_hours = EXCLUDED.duration_hours,
             blackout_policy = EXCLUDED.blackout_policy,
             allowed_categories = EXCLUDED.allowed_categories, updated_by = EXCLUDED.updated_by,
             revision = maintenance_plans.revision + 1, version = maintenance_plans.version + 1
         WHERE maintenance_plans.version = $11",
        environment_id,
        rrule,
        follows.map(|f| f.0),
        follows.map(|f| f.1).or(own_soak),
        start,
        form.time_zone.trim(),
        i32::try_from(form.duration_hours).unwrap_or(0),
        policy_str(form.blackout_policy),
        &categories,
        caller.actor.name,
        form.base_version,
    )
    .execute(&mut *tx)
    .await?;
    if written.rows_affected() != 1 {
        return Err(Error::Stale {
            message: format!(
                "The plan of {} was changed since you opened it; reload to see the change.",
                env.slug
            ),
        });
    }
    // The windows of the plans that follow this one are derived from its windows and may have
    // moved with them: their feed entries need a new SEQUENCE too, or calendar clients keep the
    // old times.
    sqlx::query!(
        "UPDATE maintenance_plans SET revision = revision + 1 WHERE follows_environment_id = $1",
        environment_id
    )
    .execute(&mut *tx)
    .await?;
    let cal = Calendar::load(&mut tx, Some(env.platform_id)).await?;
    let kept = check_platform_skew(
        &was,
        &cal,
        environment_id,
        if follows.is_some() {
            "soak_working_days"
        } else {
            "recurrence"
        },
        now,
    )?;
    let after = cal
        .plans
        .get(&environment_id)
        .cloned()
        .ok_or_else(|| Error::not_found("maintenance plan"))?;
    let mut warnings = consequences(&mut tx, env.platform_id, &was, &cal, now).await?;
    warnings.extend(kept);
    warnings.sort_by_key(|w| w.date);
    audit::record(
        &mut tx,
        caller,
        if before.is_some() {
            "maintenance_plan.update"
        } else {
            "maintenance_plan.create"
        },
        "maintenance_plan",
        &environment_id.to_string(),
        before.as_ref(),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(PlanSaved {
        plan: after,
        warnings,
    })
}

/// Removes an environment's plan (its planned maintenances stay). Refused while other
/// environments follow it.
pub async fn remove_plan(pool: &PgPool, caller: &Caller, environment_id: Uuid) -> Result<()> {
    caller.actor.authorize(Action::ManageCalendar)?;
    let mut tx = pool.begin().await?;
    // Locked, so no plan starts to follow it while it goes (see `validate_form`).
    let env = lock_environment(&mut tx, environment_id).await?;
    let before = load_plans(&mut tx, Some(env.platform_id))
        .await?
        .into_iter()
        .find(|p| p.environment_id == environment_id)
        .ok_or_else(|| Error::not_found("maintenance plan"))?;
    let followers = sqlx::query_scalar!(
        "SELECT e.slug FROM maintenance_plans p JOIN environments e ON e.id = p.environment_id
         WHERE p.follows_environment_id = $1 ORDER BY e.position",
        environment_id
    )
    .fetch_all(&mut *tx)
    .await?;
    if !followers.is_empty() {
        return Err(Error::Conflict {
            message: format!(
                "{} follow{} this plan; change or remove {} first.",
                followers.join(", "),
                if followers.len() == 1 { "s" } else { "" },
                if followers.len() == 1 { "it" } else { "them" }
            ),
        });
    }
    sqlx::query!(
        "DELETE FROM maintenance_plans WHERE environment_id = $1",
        environment_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record::<_, ()>(
        &mut tx,
        caller,
        "maintenance_plan.remove",
        "maintenance_plan",
        &environment_id.to_string(),
        Some(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An environment's schedule over `[from, to)`: its windows after blackouts, the skipped ones
/// and, for a following environment, skew violations in that period.
#[tracing::instrument(skip_all, fields(%environment_id))]
pub async fn schedule(
    pool: &PgPool,
    caller: &Caller,
    environment_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<EnvironmentSchedule> {
    caller.actor.authorize(Action::Read)?;
    if to <= from {
        return Err(Error::invalid("to", "must come after from"));
    }
    if to - from > Duration::days(super::MAX_EXPAND_DAYS) {
        return Err(Error::invalid("to", "a schedule covers at most 20 years"));
    }
    let mut conn = pool.acquire().await?;
    let env = environment(&mut conn, environment_id).await?;
    let cal = Calendar::load(&mut conn, Some(env.platform_id)).await?;
    Ok(schedule_view(&cal, environment_id, from, to))
}

/// Bumps the feed revision of the plans a blackout touches.
async fn bump_revisions(
    conn: &mut PgConnection,
    platform_id: Uuid,
    environment_id: Option<Uuid>,
) -> Result<()> {
    sqlx::query!(
        "UPDATE maintenance_plans p SET revision = revision + 1
         FROM environments e
         WHERE e.id = p.environment_id AND e.platform_id = $1
           AND ($2::uuid IS NULL OR p.environment_id = $2 OR p.follows_environment_id = $2)",
        platform_id,
        environment_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A platform's blackouts.
pub async fn blackouts(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
) -> Result<Vec<BlackoutEntry>> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    crate::platforms::fetch(&mut conn, platform_id, false).await?;
    let entries = load_blackouts(&mut conn, Some(platform_id)).await?;
    let cal = Calendar::load(&mut conn, Some(platform_id)).await?;
    with_conflicts(&mut conn, &cal, entries).await
}

/// Adds a blackout to a platform or one of its environments. The answer names the maintenances
/// it is in the way of (`conflicts`), and warns of every consequence: planned or announced
/// maintenances that now fall in it or whose window moved, and skew violations it causes.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn add_blackout(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    form: BlackoutForm,
    now: DateTime<Utc>,
) -> Result<BlackoutSaved> {
    caller.actor.authorize(Action::ManageCalendar)?;
    let mut blackout = Blackout {
        first_day: form.first_day,
        last_day: form.last_day,
        reason: form.reason,
    };
    blackout.validate()?;
    let mut tx = pool.begin().await?;
    lock_calendar(&mut tx, platform_id, true).await?;
    crate::platforms::fetch(&mut tx, platform_id, false).await?;
    if let Some(env) = form.environment_id {
        let e = environment(&mut tx, env)
            .await
            .map_err(|_| Error::invalid("environment_id", "no such environment"))?;
        if e.platform_id != platform_id {
            return Err(Error::invalid(
                "environment_id",
                "must be an environment of this platform",
            ));
        }
    }
    let was = Calendar::load(&mut tx, Some(platform_id)).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO calendar_blackouts (platform_id, environment_id, first_day, last_day, reason, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        platform_id,
        form.environment_id,
        blackout.first_day,
        blackout.last_day,
        blackout.reason,
        caller.actor.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    bump_revisions(&mut tx, platform_id, form.environment_id).await?;
    let entry = load_blackouts(&mut tx, Some(platform_id))
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| Error::not_found("blackout"))?;
    let is = Calendar::load(&mut tx, Some(platform_id)).await?;
    let entry = with_conflicts(&mut tx, &is, vec![entry]).await?.remove(0);
    let warnings = consequences(&mut tx, platform_id, &was, &is, now).await?;
    audit::record::<(), _>(
        &mut tx,
        caller,
        "blackout.create",
        "blackout",
        &id.to_string(),
        None,
        Some(&entry),
    )
    .await?;
    tx.commit().await?;
    Ok(BlackoutSaved {
        blackout: entry,
        warnings,
    })
}

/// Removes a blackout, and says what that does to what is already planned: a window the
/// blackout had moved goes back to its own day (a maintenance planned on the moved day is then
/// outside any window), and production windows that come back are checked against the soak.
pub async fn remove_blackout(
    pool: &PgPool,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<BlackoutRemoved> {
    caller.actor.authorize(Action::ManageCalendar)?;
    let mut tx = pool.begin().await?;
    let platform_id = sqlx::query_scalar!(
        "SELECT platform_id FROM calendar_blackouts WHERE id = $1",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("blackout"))?;
    // Under the lock the blackout is read again: of two removals, the second finds it gone.
    lock_calendar(&mut tx, platform_id, true).await?;
    let before = load_blackouts(&mut tx, Some(platform_id))
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| Error::not_found("blackout"))?;
    let was = Calendar::load(&mut tx, Some(platform_id)).await?;
    sqlx::query!("DELETE FROM calendar_blackouts WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    bump_revisions(&mut tx, platform_id, before.environment_id).await?;
    let is = Calendar::load(&mut tx, Some(platform_id)).await?;
    let warnings = consequences(&mut tx, platform_id, &was, &is, now).await?;
    audit::record::<_, ()>(
        &mut tx,
        caller,
        "blackout.remove",
        "blackout",
        &id.to_string(),
        Some(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(BlackoutRemoved {
        platform_id,
        warnings,
    })
}

/// A platform's notice and reminder settings.
pub async fn settings(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
) -> Result<CalendarSettings> {
    caller.actor.authorize(Action::Read)?;
    let mut conn = pool.acquire().await?;
    load_settings(&mut conn, platform_id).await
}

pub(crate) async fn load_settings(
    conn: &mut PgConnection,
    platform_id: Uuid,
) -> Result<CalendarSettings> {
    sqlx::query_as!(
        CalendarSettings,
        "SELECT major_notice_days, reminder_minutes, calendar_settings_version AS version
         FROM platforms WHERE id = $1",
        platform_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("platform"))
}

/// Least notice a platform may set for a major update, in days: DOMAIN §3 wants majors announced
/// at least a month ahead (the database's CHECK says the same).
pub const MIN_MAJOR_NOTICE_DAYS: i32 = 30;

/// Longest reminder lead time: 60 days.
const MAX_REMINDER_MINUTES: i32 = 60 * 24 * 60;

/// Changes a platform's notice and reminder settings if nobody changed them since
/// `expected_version` (compared with the platform locked; stale is [`Error::Stale`]). The
/// reminders of maintenances already announced follow the new lead times: those not sent yet at a
/// time no longer wanted are dropped, the new ones are queued; a reminder already sent is never
/// sent again.
#[tracing::instrument(skip_all, fields(%platform_id))]
pub async fn save_settings(
    pool: &PgPool,
    caller: &Caller,
    platform_id: Uuid,
    expected_version: i32,
    mut input: CalendarSettings,
    now: DateTime<Utc>,
) -> Result<CalendarSettings> {
    caller.actor.authorize(Action::ManageCalendar)?;
    let mut p = Problems::default();
    // DOMAIN §3: a major update is announced at least a month ahead; a platform may ask more.
    if !(MIN_MAJOR_NOTICE_DAYS..=365).contains(&input.major_notice_days) {
        p.add(
            "major_notice_days",
            format!(
                "must be between {MIN_MAJOR_NOTICE_DAYS} and 365 days: a major update is announced at least a month ahead"
            ),
        );
    }
    input.reminder_minutes.sort_unstable_by(|a, b| b.cmp(a));
    input.reminder_minutes.dedup();
    if input.reminder_minutes.len() > 10 {
        p.add("reminder_minutes", "at most 10 reminders");
    }
    if input
        .reminder_minutes
        .iter()
        .any(|m| !(1..=MAX_REMINDER_MINUTES).contains(m))
    {
        p.add(
            "reminder_minutes",
            "each reminder must be between 1 minute and 60 days before the start",
        );
    }
    p.finish()?;
    let mut tx = pool.begin().await?;
    let before = sqlx::query_as!(
        CalendarSettings,
        "SELECT major_notice_days, reminder_minutes, calendar_settings_version AS version
         FROM platforms WHERE id = $1 FOR NO KEY UPDATE",
        platform_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("platform"))?;
    if before.version != expected_version {
        return Err(Error::Stale {
            message: "The calendar settings of this platform were changed by someone else since \
                      you opened them. Reload to see them, then make your change again."
                .into(),
        });
    }
    input.version = sqlx::query_scalar!(
        "UPDATE platforms SET major_notice_days = $2, reminder_minutes = $3,
             calendar_settings_version = calendar_settings_version + 1
         WHERE id = $1 RETURNING calendar_settings_version",
        platform_id,
        input.major_notice_days,
        &input.reminder_minutes,
    )
    .fetch_one(&mut *tx)
    .await?;
    if before.reminder_minutes != input.reminder_minutes {
        super::notices::replan_reminders(&mut tx, platform_id, now).await?;
    }
    audit::record(
        &mut tx,
        caller,
        "calendar_settings.update",
        "platform",
        &platform_id.to_string(),
        Some(&before),
        Some(&input),
    )
    .await?;
    tx.commit().await?;
    Ok(input)
}

/// The local day a window key names, for messages.
pub(crate) fn day(d: NaiveDate) -> String {
    super::human_date(d)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Weekday};

    use super::*;
    use crate::calendar::Recurrence;
    use crate::model::Environment;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Monday 4 January 2027, 09:00 UTC.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 4, 9, 0, 0).unwrap()
    }

    struct Platform {
        id: Uuid,
        staging: Environment,
        production: Environment,
    }

    fn platform() -> Platform {
        let id = Uuid::new_v4();
        let env = |slug: &str, position: i32, is_production: bool| Environment {
            id: Uuid::new_v4(),
            platform_id: id,
            slug: slug.into(),
            name: slug.into(),
            position,
            is_production,
            archived_at: None,
            version: 1,
            created_at: now(),
            updated_at: now(),
        };
        Platform {
            id,
            staging: env("staging", 1, false),
            production: env("production", 2, true),
        }
    }

    fn weekly(day: Weekday, soak: Option<i32>) -> PlanRhythm {
        let recurrence = Recurrence::Weekly {
            weekdays: vec![day],
        };
        PlanRhythm::Own {
            rrule: recurrence.to_rrule(),
            recurrence,
            soak_working_days: soak,
        }
    }

    fn plan(
        env: &Environment,
        rhythm: PlanRhythm,
        start: &str,
        hours: i32,
        policy: BlackoutPolicy,
    ) -> MaintenancePlan {
        MaintenancePlan {
            environment_id: env.id,
            environment_slug: env.slug.clone(),
            environment_name: env.name.clone(),
            platform_id: env.platform_id,
            rhythm,
            start_time: start.into(),
            time_zone: "Europe/Amsterdam".into(),
            duration_hours: hours,
            blackout_policy: policy,
            allowed_categories: vec![Category::Minor],
            revision: 1,
            version: 1,
            updated_by: "pat".into(),
            updated_at: now(),
        }
    }

    /// Staging every Monday at 20:00 for 4 hours, with `policy` for blackouts.
    fn staging_on(p: &Platform, day: Weekday, policy: BlackoutPolicy) -> MaintenancePlan {
        plan(&p.staging, weekly(day, None), "20:00", 4, policy)
    }

    /// Production following staging by 3 working days, at 22:00 for 6 hours.
    fn following(p: &Platform) -> MaintenancePlan {
        let rhythm = PlanRhythm::Follows {
            environment_id: p.staging.id,
            environment_slug: p.staging.slug.clone(),
            soak_working_days: 3,
        };
        plan(
            &p.production,
            rhythm,
            "22:00",
            6,
            BlackoutPolicy::MoveToNextAllowedDay,
        )
    }

    /// Easter Monday 2027 as a holiday of the whole platform.
    fn easter_monday(p: &Platform) -> Vec<BlackoutEntry> {
        vec![BlackoutEntry {
            id: Uuid::new_v4(),
            platform_id: p.id,
            environment_id: None,
            environment_slug: None,
            first_day: d(2027, 3, 29),
            last_day: d(2027, 3, 29),
            reason: "Easter Monday".into(),
            created_by: "pat".into(),
            created_at: now(),
            conflicts: Vec::new(),
        }]
    }

    fn calendar(p: &Platform, plans: Vec<MaintenancePlan>, b: Vec<BlackoutEntry>) -> Calendar {
        Calendar::new(plans, b, &[p.staging.clone(), p.production.clone()])
    }

    fn around_easter(cal: &Calendar, env: Uuid) -> EnvironmentSchedule {
        let from = Utc.with_ymd_and_hms(2027, 3, 22, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2027, 4, 12, 0, 0, 0).unwrap();
        schedule_view(cal, env, from, to)
    }

    #[test]
    fn a_following_production_window_goes_where_the_staging_window_a_holiday_moved_went() {
        let p = platform();
        let staging = staging_on(&p, Weekday::Mon, BlackoutPolicy::MoveToNextAllowedDay);
        let cal = calendar(&p, vec![staging, following(&p)], easter_monday(&p));
        let s = around_easter(&cal, p.staging.id);
        let days: Vec<_> = s.windows.iter().map(|w| w.local_date).collect();
        assert_eq!(days, [d(2027, 3, 22), d(2027, 3, 30), d(2027, 4, 5)]);
        let prod = around_easter(&cal, p.production.id);
        let days: Vec<_> = prod
            .windows
            .iter()
            .map(|w| (w.local_date, w.follows))
            .collect();
        // Staging's Easter window moved to Tue 30 March: production's follows it three working
        // days later, on Fri 2 April (not on Thu 1 April, one working day short).
        assert_eq!(
            days,
            [
                (d(2027, 3, 25), Some(d(2027, 3, 22))),
                (d(2027, 4, 2), Some(d(2027, 3, 30))),
                (d(2027, 4, 8), Some(d(2027, 4, 5))),
            ]
        );
        assert_eq!(prod.follows_environment.as_deref(), Some("staging"));
        assert!(prod.skew_violations.is_empty(), "{prod:#?}");
        // Maintenances take the window where the calendar shows it.
        assert!(cal.window_on(p.production.id, d(2027, 4, 1)).is_none());
        assert!(cal.window_on(p.production.id, d(2027, 4, 2)).is_some());
    }

    #[test]
    fn a_following_production_window_is_skipped_with_the_staging_window_a_holiday_skipped() {
        let p = platform();
        let staging = staging_on(&p, Weekday::Mon, BlackoutPolicy::Skip);
        let cal = calendar(&p, vec![staging, following(&p)], easter_monday(&p));
        let prod = around_easter(&cal, p.production.id);
        let days: Vec<_> = prod.windows.iter().map(|w| w.local_date).collect();
        assert_eq!(days, [d(2027, 3, 25), d(2027, 4, 8)]);
        assert_eq!(
            prod.skipped,
            [SkippedWindow {
                nominal_date: d(2027, 4, 1),
                reason: "Easter Monday".into(),
            }]
        );
        assert!(prod.skew_violations.is_empty(), "{prod:#?}");
        assert!(cal.window_on(p.production.id, d(2027, 4, 1)).is_none());
    }

    #[test]
    fn a_plan_is_refused_only_for_the_soak_violations_it_introduces() {
        let p = platform();
        // Production with a rhythm of its own, Thursdays, keeping 3 working days after staging's
        // Mondays. Easter Monday moves staging to Tue 30 March, two working days before Thu
        // 1 April: a violation the holiday brought.
        let production = plan(
            &p.production,
            weekly(Weekday::Thu, Some(3)),
            "22:00",
            6,
            BlackoutPolicy::MoveToNextAllowedDay,
        );
        let mondays = staging_on(&p, Weekday::Mon, BlackoutPolicy::MoveToNextAllowedDay);
        let before = calendar(
            &p,
            vec![mondays.clone(), production.clone()],
            easter_monday(&p),
        );
        // An edit of staging that changes no window keeps it: saved, and the violation is told.
        let mut edited = mondays.clone();
        edited.allowed_categories = vec![Category::Minor, Category::Major];
        let after = calendar(&p, vec![edited, production.clone()], easter_monday(&p));
        let kept = check_platform_skew(&before, &after, p.staging.id, "recurrence", now())
            .expect("an old violation does not block the save");
        assert_eq!(kept.len(), 1, "{kept:#?}");
        assert_eq!(kept[0].kind, CalendarWarningKind::SkewViolation);
        assert_eq!(kept[0].environment_slug, "production");
        assert_eq!(kept[0].date, d(2027, 4, 1));
        assert!(
            kept[0].message.contains("Thu 1 Apr 2027")
                && kept[0]
                    .message
                    .contains("This was so before this change too."),
            "{}",
            kept[0].message
        );
        // So does an edit of production itself.
        let kept = check_platform_skew(&before, &before, p.production.id, "recurrence", now())
            .expect("an old violation does not block the save");
        assert_eq!(kept.len(), 1, "{kept:#?}");
        // Moving staging to Tuesdays breaks every week's soak: refused, naming what is new.
        let tuesdays = staging_on(&p, Weekday::Tue, BlackoutPolicy::MoveToNextAllowedDay);
        let after = calendar(&p, vec![tuesdays, production], easter_monday(&p));
        match check_platform_skew(&before, &after, p.staging.id, "recurrence", now()) {
            Err(Error::Invalid { fields }) => {
                let message = &fields["recurrence"];
                assert!(
                    message.contains("Production on Thu 7 Jan 2027 comes only 2 working days"),
                    "{message}"
                );
                assert!(message.contains("more in the next 12 months"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
