//! Server functions of the maintenance calendar: the month grid and agenda, maintenance plans and
//! blackouts, maintenances with their lifecycle and retrospectives, DR drills, feeds and e-mail
//! recipients. Thin like the rest: parse the form, call `domain::calendar`, return its answer.
//! The domain authorizes and validates; the `can_*` flags only decide which buttons a page offers.
// A server function takes one argument per form field, so the forms with many fields have many.
#![allow(clippy::too_many_arguments)]

use chrono::NaiveDate;
#[cfg(feature = "ssr")]
use chrono::{DateTime, Utc};
use domain::calendar::holidays::{Country, Holiday};
use domain::calendar::model::{
    Acknowledgement, ActionItem, AwaitingAcknowledgement, BlackoutEntry, BlackoutSaved,
    CalendarEvent, CalendarSettings, Drill, EnvironmentEol, Feed, Maintenance, MaintenancePlan,
    PlanSaved, SkippedWindow, TeamEmail, Window,
};
use domain::model::{Environment, Platform, Team};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::UiResult;
#[cfg(feature = "ssr")]
use super::{UiError, ssr};

/// Whose window an entry follows: the leading environment and the day of its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Follows {
    pub environment: String,
    pub date: NaiveDate,
}

/// One entry of the grid or the agenda.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub event: CalendarEvent,
    /// For a window or maintenance of a following environment (production after staging).
    pub follows: Option<Follows>,
}

/// A line of the agenda: one entry, or a leading window with the one that follows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgendaRow {
    pub entry: Entry,
    /// The following environment's window and the working days between the two days.
    pub follower: Option<(Entry, i64)>,
}

/// What `/calendar` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarPageData {
    /// The first day of the month shown.
    pub month: NaiveDate,
    /// `month` or `agenda`.
    pub view: String,
    /// The first and last day shown (the grid runs Monday to Sunday around the month).
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub today: NaiveDate,
    pub entries: Vec<Entry>,
    /// The agenda's lines (agenda view only).
    pub agenda: Vec<AgendaRow>,
    /// Environments within 90 days of their Kubernetes version's end of life, or past it.
    pub end_of_life: Vec<EnvironmentEol>,
    pub platforms: Vec<Platform>,
    /// (platform name, environment)
    pub environments: Vec<(String, Environment)>,
    pub teams: Vec<Team>,
    pub can_manage: bool,
}

/// One environment on the plans page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentPlan {
    pub environment: Environment,
    pub plan: Option<MaintenancePlan>,
    /// The earlier environments of the platform it may follow.
    pub earlier: Vec<Environment>,
    /// The environment whose windows its windows follow.
    pub leader: Option<String>,
    pub next_windows: Vec<Window>,
    pub skipped: Vec<SkippedWindow>,
    /// Windows in the next 12 months that come too soon after the leading environment's.
    pub skew_violations: Vec<String>,
}

/// What `/calendar/plans` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlansPageData {
    pub platform: Platform,
    pub platforms: Vec<Platform>,
    pub environments: Vec<EnvironmentPlan>,
    pub blackouts: Vec<BlackoutEntry>,
    pub settings: CalendarSettings,
    /// The reminders as the settings form shows them ("7d, 3d, 1h").
    pub reminders: String,
    pub countries: Vec<Country>,
    /// The holiday suggestions asked for (country and year), if any.
    pub holiday_country: String,
    pub holiday_year: i32,
    pub holidays: Vec<Holiday>,
    /// Why the holidays could not be listed, per field.
    pub holiday_errors: std::collections::BTreeMap<String, String>,
    pub can_manage: bool,
    /// What the save that led to the page did to what is already planned.
    pub warnings: Vec<String>,
}

/// What the new-maintenance page offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceFormData {
    /// (platform name, environment)
    pub environments: Vec<(String, Environment)>,
    /// The environment chosen, with its plan and open windows.
    pub environment: Option<Environment>,
    pub plan: Option<MaintenancePlan>,
    pub windows: Vec<Window>,
    /// The environment changes must pass first, and its maintenances.
    pub upstream: Option<Environment>,
    pub upstream_maintenances: Vec<Maintenance>,
    /// The maintenance the form changes (None for a new one).
    pub editing: Option<Maintenance>,
    pub can_manage: bool,
}

/// A team's acknowledgement, and whether the signed-in person may give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AckRow {
    pub ack: Acknowledgement,
    pub can_acknowledge: bool,
}

/// What a maintenance's page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenancePageData {
    pub maintenance: Maintenance,
    /// The earlier environment's maintenance this one repeats.
    pub staging: Option<Maintenance>,
    pub acknowledgements: Vec<AckRow>,
    pub can_manage: bool,
    pub today: NaiveDate,
    /// What the rules warned of when the maintenance was saved (the save that led here).
    pub warnings: Vec<String>,
}

/// What the new-drill page offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillFormData {
    pub platforms: Vec<Platform>,
    /// (id, "name (team)")
    pub applications: Vec<(String, String)>,
}

/// What a drill's page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillPageData {
    pub drill: Drill,
    /// Record the result, cancel, complete action items.
    pub can_work: bool,
    /// The drill has started: its result can be recorded.
    pub started: bool,
    pub today: NaiveDate,
}

/// A feed, and whether the signed-in person may rotate or remove it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedRow {
    pub feed: Feed,
    pub can_manage: bool,
}

/// A team the signed-in person may manage the feed and e-mail recipients of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRecipients {
    pub team: Team,
    pub emails: Vec<TeamEmail>,
}

/// What `/calendar/feeds` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedsPageData {
    pub feeds: Vec<FeedRow>,
    pub platforms: Vec<Platform>,
    /// (platform name, environment)
    pub environments: Vec<(String, Environment)>,
    pub teams: Vec<TeamRecipients>,
    pub can_manage: bool,
}

/// A new or rotated feed with its address, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedFeed {
    pub feed: Feed,
    /// Absolute when the request said where it came from, else the path.
    pub url: String,
}

/// The calendar's part of the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarDashboard {
    pub today: NaiveDate,
    /// Announced major updates some team has not acknowledged yet.
    pub awaiting_acknowledgement: Vec<AwaitingAcknowledgement>,
    pub action_items: Vec<ActionItem>,
    /// Ended maintenances without a retrospective, however long ago they ended.
    pub retrospectives_due: Vec<Maintenance>,
    /// Planned drills whose time passed without a recorded result.
    pub drill_results_overdue: Vec<Drill>,
    pub end_of_life: Vec<EnvironmentEol>,
}

/// One action-item row of a retrospective form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionItemField {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub due_on: String,
}

/// Lead times as the settings form writes them: `7d`, `72h`, `30m`.
pub fn format_reminders(minutes: &[i32]) -> String {
    minutes
        .iter()
        .map(|m| match m {
            m if m % 1440 == 0 => format!("{}d", m / 1440),
            m if m % 60 == 0 => format!("{}h", m / 60),
            m => format!("{m}m"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads "7d, 72h, 1h, 30" (a bare number is minutes) into minutes.
pub fn parse_reminders(text: &str) -> Result<Vec<i32>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            let lower = t.to_ascii_lowercase();
            let (number, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
                Some(at) => lower.split_at(at),
                None => (lower.as_str(), "m"),
            };
            let factor = match unit.trim() {
                "m" | "min" | "mins" | "minutes" => 1,
                "h" | "hours" => 60,
                "d" | "days" => 1440,
                "w" | "weeks" => 10080,
                _ => return Err(format!("“{t}” is not a lead time such as 7d, 72h or 30m")),
            };
            number
                .parse::<i32>()
                .ok()
                .and_then(|n| n.checked_mul(factor))
                .ok_or_else(|| format!("“{t}” is not a lead time such as 7d, 72h or 30m"))
        })
        .collect()
}

/// Groups each leading window with the following window that names it, at the leader's place.
pub fn agenda_rows(entries: &[Entry]) -> Vec<AgendaRow> {
    use domain::calendar::model::EventKind;
    let mut follower_of = vec![None; entries.len()];
    let mut is_follower = vec![false; entries.len()];
    for (i, e) in entries.iter().enumerate() {
        let Some(f) = &e.follows else { continue };
        let lead = entries.iter().enumerate().position(|(j, l)| {
            follower_of[j].is_none()
                && l.event.platform_slug == e.event.platform_slug
                && l.event.environment_slug.as_deref() == Some(f.environment.as_str())
                && l.event.local_date == f.date
                && matches!(l.event.kind, EventKind::Window | EventKind::Maintenance)
                && !l.event.cancelled
        });
        if let Some(j) = lead {
            follower_of[j] = Some(i);
            is_follower[i] = true;
        }
    }
    entries
        .iter()
        .enumerate()
        .filter(|(i, _)| !is_follower[*i])
        .map(|(i, e)| AgendaRow {
            entry: e.clone(),
            follower: follower_of[i].map(|f| {
                let soak = domain::calendar::working_days_after(
                    e.event.local_date,
                    entries[f].event.local_date,
                );
                (entries[f].clone(), soak)
            }),
        })
        .collect()
}

/// `YYYY-MM` to the month's first day.
#[cfg(feature = "ssr")]
fn parse_month(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", value.trim()), "%Y-%m-%d").ok()
}

/// Adds months to a month's first day.
pub fn add_months(first: NaiveDate, months: i32) -> NaiveDate {
    use chrono::Datelike;
    let index = first.year() * 12 + first.month0() as i32 + months;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(first)
}

/// The days the month grid shows: Monday on or before the first to Sunday on or after the last.
pub fn grid_range(month: NaiveDate) -> (NaiveDate, NaiveDate) {
    use chrono::{Datelike, Duration};
    let first = month - Duration::days(i64::from(month.weekday().num_days_from_monday()));
    let last_of_month = add_months(month, 1) - Duration::days(1);
    let last = last_of_month
        + Duration::days(6 - i64::from(last_of_month.weekday().num_days_from_monday()));
    (first, last)
}

#[cfg(feature = "ssr")]
fn warns(e: &EnvironmentEol) -> bool {
    !matches!(e.level.as_str(), "supported" | "unknown")
}

#[cfg(feature = "ssr")]
async fn named_environments(
    pool: &domain::db::PgPool,
    caller: &domain::db::Caller,
    platforms: &[Platform],
) -> UiResult<Vec<(String, Environment)>> {
    Ok(domain::environments::all(pool, caller)
        .await?
        .into_iter()
        .filter(|e| e.archived_at.is_none())
        .filter_map(|e| {
            let platform = platforms.iter().find(|p| p.id == e.platform_id)?;
            Some((platform.name.clone(), e))
        })
        .collect())
}

/// The month grid (`view` = month) or agenda of a month, with its filters.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_calendar(
    month: Option<String>,
    view: Option<String>,
    platform: Option<String>,
    environment: Option<String>,
    team: Option<String>,
    #[server(default)] kinds: Vec<String>,
) -> UiResult<CalendarPageData> {
    use chrono::Duration;
    use domain::calendar::model::{CalendarFilter, EventKind};
    let (pool, caller) = ssr::context()?;
    let now = ssr::now()?;
    let today = now.date_naive();
    let month = match month.as_deref().map(str::trim) {
        None | Some("") => chrono::Datelike::with_day(&today, 1).unwrap_or(today),
        Some(m) => domain::validate::day(
            "month",
            parse_month(m).ok_or_else(|| {
                domain::Error::invalid("month", "must be a month such as 2027-03")
            })?,
        )?,
    };
    let view = if view.as_deref() == Some("agenda") {
        "agenda"
    } else {
        "month"
    };
    let (first, last) = if view == "agenda" {
        (month, add_months(month, 2) - Duration::days(1))
    } else {
        grid_range(month)
    };
    let mut parsed_kinds = Vec::new();
    for k in &kinds {
        parsed_kinds.push(EventKind::parse(k.trim()).ok_or_else(|| {
            domain::Error::invalid("kinds", format!("“{k}” is not a kind of entry"))
        })?);
    }
    let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let filter = CalendarFilter {
        from: Some(first),
        to: Some(last + Duration::days(1)),
        platform: blank(platform),
        environment: ssr::maybe_uuid("environment", &environment)?,
        team: blank(team),
        kinds: parsed_kinds,
    };
    let events = domain::calendar::events::events(&pool, &caller, &filter, now).await?;
    let platforms = domain::platforms::list(&pool, &caller, &ssr::every())
        .await?
        .items;
    let entries: Vec<Entry> = events
        .into_iter()
        .map(|event| {
            let follows = event
                .follows_environment
                .clone()
                .zip(event.follows)
                .map(|(environment, date)| Follows { environment, date });
            Entry { event, follows }
        })
        .collect();
    let agenda = if view == "agenda" {
        agenda_rows(&entries)
    } else {
        Vec::new()
    };
    let end_of_life = domain::calendar::events::end_of_life(&pool, &caller, today)
        .await?
        .into_iter()
        .filter(warns)
        .collect();
    Ok(CalendarPageData {
        month,
        view: view.to_owned(),
        first,
        last,
        today,
        entries,
        agenda,
        end_of_life,
        environments: named_environments(&pool, &caller, &platforms).await?,
        platforms,
        teams: domain::teams::list(&pool, &caller, &ssr::every())
            .await?
            .items,
        can_manage: caller.actor.may(domain::Action::ManageCalendar),
    })
}

/// A platform's environments with their plans and next windows, its blackouts, notice settings
/// and (when a country is chosen) public holidays to offer as blackouts.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_plans(
    platform: Option<String>,
    country: Option<String>,
    year: Option<String>,
    #[server(default)] warnings: Option<String>,
) -> UiResult<PlansPageData> {
    use chrono::{Datelike, Duration};
    use domain::calendar::{holidays, plans};
    let (pool, caller) = ssr::context()?;
    let now = ssr::now()?;
    let platforms = domain::platforms::list(&pool, &caller, &ssr::every())
        .await?
        .items;
    let platform = match ssr::maybe_uuid("platform", &platform)? {
        Some(id) => domain::platforms::get(&pool, &caller, id).await?,
        None => platforms
            .first()
            .cloned()
            .ok_or_else(|| domain::Error::not_found("platform"))?,
    };
    let all = domain::environments::list(&pool, &caller, platform.id, false).await?;
    let mut environments = Vec::new();
    for env in &all {
        let schedule =
            plans::schedule(&pool, &caller, env.id, now, now + Duration::days(366)).await?;
        environments.push(EnvironmentPlan {
            environment: env.clone(),
            plan: schedule.plan,
            leader: schedule.follows_environment,
            earlier: all
                .iter()
                .filter(|e| e.position < env.position)
                .cloned()
                .collect(),
            next_windows: schedule.windows.into_iter().take(6).collect(),
            skipped: schedule.skipped.into_iter().take(3).collect(),
            skew_violations: schedule
                .skew_violations
                .into_iter()
                .map(|v| v.message)
                .collect(),
        });
    }
    let settings = plans::settings(&pool, &caller, platform.id).await?;
    let holiday_country = country.unwrap_or_default().trim().to_owned();
    let holiday_year = match year.as_deref().map(str::trim) {
        None | Some("") => now.year(),
        Some(y) => ssr::number("year", y)?,
    };
    let (holidays, holiday_errors) = if holiday_country.is_empty() {
        (Vec::new(), Default::default())
    } else {
        match holidays::holidays(&holiday_country, holiday_year) {
            Ok(h) => (h, Default::default()),
            Err(e) => (Vec::new(), e.field_errors()),
        }
    };
    Ok(PlansPageData {
        blackouts: plans::blackouts(&pool, &caller, platform.id).await?,
        reminders: format_reminders(&settings.reminder_minutes),
        settings,
        countries: holidays::countries(),
        holiday_country,
        holiday_year,
        holidays,
        holiday_errors,
        environments,
        platform,
        platforms,
        can_manage: caller.actor.may(domain::Action::ManageCalendar),
        warnings: opened_warnings(warnings.as_deref()),
    })
}

/// Sets an environment's plan: a rhythm of its own or following an earlier environment.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_plan(
    environment_id: String,
    #[server(default)] base_version: String,
    rhythm: String,
    #[server(default)] weekdays: Vec<String>,
    #[server(default)] month_day: String,
    #[server(default)] ordinal: String,
    #[server(default)] weekday: String,
    #[server(default)] follows_environment_id: String,
    #[server(default)] soak_working_days: String,
    #[server(default)] own_soak_working_days: String,
    #[server(default)] start_time: String,
    #[server(default)] time_zone: String,
    #[server(default)] duration_hours: String,
    #[server(default)] blackout_policy: String,
    #[server(default)] allowed_categories: Vec<String>,
) -> UiResult<PlanSaved> {
    use chrono::Weekday;
    use domain::calendar::model::{Category, PlanForm};
    use domain::calendar::{BlackoutPolicy, Ordinal, Recurrence};
    let (pool, caller) = ssr::context()?;
    let environment_id = ssr::uuid("environment_id", &environment_id)?;
    let weekday_of = |field: &str, v: &str| {
        v.trim()
            .parse::<Weekday>()
            .map_err(|_| domain::Error::invalid(field, "is not a day of the week"))
    };
    let (recurrence, follows) = match rhythm.trim() {
        "daily" => (Some(Recurrence::Daily {}), None),
        "weekly" => (
            Some(Recurrence::Weekly {
                weekdays: weekdays
                    .iter()
                    .map(|d| weekday_of("weekdays", d))
                    .collect::<Result<_, _>>()?,
            }),
            None,
        ),
        "monthly_day" => (
            Some(Recurrence::MonthlyDay {
                day: ssr::number("month_day", &month_day)?,
            }),
            None,
        ),
        "monthly_weekday" => {
            let ordinal = match ordinal.trim() {
                "first" => Ordinal::First,
                "second" => Ordinal::Second,
                "third" => Ordinal::Third,
                "fourth" => Ordinal::Fourth,
                "last" => Ordinal::Last,
                _ => return Err(domain::Error::invalid("ordinal", "choose which week").into()),
            };
            (
                Some(Recurrence::MonthlyWeekday {
                    ordinal,
                    weekday: weekday_of("weekday", &weekday)?,
                }),
                None,
            )
        }
        "follows" => (
            None,
            Some(
                ssr::maybe_uuid("follows_environment_id", &Some(follows_environment_id))?
                    .ok_or_else(|| {
                        domain::Error::invalid(
                            "follows_environment_id",
                            "choose the environment to follow",
                        )
                    })?,
            ),
        ),
        _ => {
            return Err(
                domain::Error::invalid("recurrence", "choose how often the windows come").into(),
            );
        }
    };
    let form = PlanForm {
        recurrence,
        follows_environment_id: follows,
        // Following: the soak after each leading window. A rhythm of its own (production): the
        // least soak after the environment before it; empty means the default (1 working day).
        soak_working_days: match (follows, own_soak_working_days.trim()) {
            (Some(_), _) => Some(ssr::number("soak_working_days", &soak_working_days)?),
            (None, "") => None,
            (None, own) => Some(ssr::number("own_soak_working_days", own)?),
        },
        start_time,
        time_zone,
        duration_hours: ssr::number("duration_hours", &duration_hours)?,
        blackout_policy: match blackout_policy.trim() {
            "move_to_next_allowed_day" => BlackoutPolicy::MoveToNextAllowedDay,
            _ => BlackoutPolicy::Skip,
        },
        allowed_categories: allowed_categories
            .iter()
            .map(|c| {
                Category::parse(c.trim()).ok_or_else(|| {
                    domain::Error::invalid("allowed_categories", "is not a kind of change")
                })
            })
            .collect::<Result<_, _>>()?,
        base_version: match base_version.trim() {
            "" => 0,
            v => ssr::number("base_version", v)?,
        },
    };
    let own_rhythm = form.recurrence.is_some();
    let now = ssr::now()?;
    let saved = domain::calendar::plans::save_plan(&pool, &caller, environment_id, form, now)
        .await
        .map_err(|e| match e {
            // The domain names the soak `soak_working_days` whatever the rhythm; this form has
            // a field of its own for the soak of a rhythm of its own.
            domain::Error::Invalid { mut fields } if own_rhythm => {
                if let Some(message) = fields.remove("soak_working_days") {
                    fields.insert("own_soak_working_days".to_owned(), message);
                }
                domain::Error::Invalid { fields }.into()
            }
            other => UiError::from(other),
        })?;
    show_consequences(saved.plan.platform_id, &saved.warnings);
    Ok(saved)
}

/// When a change of plans or blackouts affects what is already planned, goes back to the plans
/// page with the warnings to show, sealed so that the page shows only what Demarc wrote (a link
/// cannot make it say anything else); otherwise the page is simply read again.
#[cfg(feature = "ssr")]
fn show_consequences(
    platform_id: uuid::Uuid,
    warnings: &[domain::calendar::model::CalendarWarning],
) {
    // An address holds only so much: the first few, and how many more the REST answer lists.
    const SHOWN: usize = 10;
    if warnings.is_empty() {
        return;
    }
    let mut messages: Vec<String> = warnings
        .iter()
        .take(SHOWN)
        .map(|w| w.message.clone())
        .collect();
    if warnings.len() > SHOWN {
        messages.push(format!("And {} more.", warnings.len() - SHOWN));
    }
    // Without a secret key nothing can be sealed: the page then shows what it always shows
    // (the blackouts' conflicts, the skew), and the REST answer lists every warning.
    if let Some(sealed) = sealed_warnings(&messages) {
        leptos_axum::redirect(&format!(
            "/calendar/plans?platform={platform_id}&warnings={sealed}#calendar-warnings"
        ));
    }
}

/// What the sealed warnings in a page's address are bound to.
#[cfg(feature = "ssr")]
const WARNINGS_CONTEXT: &str = "page-warnings";

/// Warnings sealed for a page's address (`?warnings=`), so that the page shows only what
/// Demarc wrote: a link cannot make Demarc's page say anything else. None without a secret key.
#[cfg(feature = "ssr")]
fn sealed_warnings(messages: &[String]) -> Option<String> {
    let secrets = ssr::secrets().ok()?;
    let text = serde_json::to_string(messages).ok()?;
    secrets.seal_for_url(WARNINGS_CONTEXT, &text).ok()
}

/// The warnings [`sealed_warnings`] sealed into the address; nothing for anything else.
#[cfg(feature = "ssr")]
fn opened_warnings(sealed: Option<&str>) -> Vec<String> {
    sealed
        .and_then(|sealed| {
            let secrets = ssr::secrets().ok()?;
            let text = secrets.open_from_url(WARNINGS_CONTEXT, sealed)?;
            serde_json::from_str(&text).ok()
        })
        .unwrap_or_default()
}

/// Removes an environment's plan, unless another environment follows it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn remove_plan(environment_id: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    let environment_id = ssr::uuid("environment_id", &environment_id)?;
    Ok(domain::calendar::plans::remove_plan(&pool, &caller, environment_id).await?)
}

/// Adds a blackout to a platform (no environment) or one of its environments.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn add_blackout(
    platform_id: String,
    #[server(default)] environment_id: Option<String>,
    first_day: String,
    #[server(default)] last_day: String,
    reason: String,
    // Which of the page's forms posted (a suggested holiday's button names itself; the blackout
    // form sends nothing): a refusal is shown in that form only.
    #[server(default)] form: String,
) -> UiResult<BlackoutSaved> {
    let added: UiResult<BlackoutSaved> = async {
        let (pool, caller) = ssr::context()?;
        let first_day = ssr::date("first_day", &first_day)?;
        let input = domain::calendar::model::BlackoutForm {
            environment_id: ssr::maybe_uuid("environment_id", &environment_id)?,
            first_day,
            last_day: ssr::optional_date("last_day", &last_day)?.unwrap_or(first_day),
            reason,
        };
        let platform_id = ssr::uuid("platform_id", &platform_id)?;
        let now = ssr::now()?;
        let saved =
            domain::calendar::plans::add_blackout(&pool, &caller, platform_id, input, now).await?;
        show_consequences(platform_id, &saved.warnings);
        Ok(saved)
    }
    .await;
    added.map_err(|e| if form.is_empty() { e } else { e.in_form(&form) })
}

/// Removes a blackout; what that breaks is shown on the plans page.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn remove_blackout(id: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let removed = domain::calendar::plans::remove_blackout(&pool, &caller, id, ssr::now()?).await?;
    show_consequences(removed.platform_id, &removed.warnings);
    Ok(())
}

/// Sets a platform's notice period for major updates and its reminder lead times, if nobody
/// changed them since the form was loaded at `version`.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_calendar_settings(
    platform_id: String,
    #[server(default)] version: String,
    major_notice_days: String,
    #[server(default)] reminders: String,
) -> UiResult<CalendarSettings> {
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let version = ssr::number("version", &version)?;
    let input = CalendarSettings {
        major_notice_days: ssr::number("major_notice_days", &major_notice_days)?,
        reminder_minutes: parse_reminders(&reminders)
            .map_err(|m| domain::Error::invalid("reminders", m))?,
        version,
    };
    domain::calendar::plans::save_settings(&pool, &caller, platform_id, version, input, ssr::now()?)
        .await
        .map_err(|e| rename_field(e, "reminder_minutes", "reminders").into())
}

/// Moves a field's message to the name the form uses.
#[cfg(feature = "ssr")]
fn rename_field(error: domain::Error, from: &str, to: &str) -> domain::Error {
    match error {
        domain::Error::Invalid { mut fields } => {
            if let Some(message) = fields.remove(from) {
                fields.insert(to.to_owned(), message);
            }
            domain::Error::Invalid { fields }
        }
        other => other,
    }
}

/// The new-maintenance form's choices; with an environment, its windows and what it repeats.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_maintenance_form(environment: Option<String>) -> UiResult<MaintenanceFormData> {
    use chrono::Duration;
    use domain::calendar::maintenances::{self, MaintenanceQuery};
    use domain::calendar::model::MaintenanceState;
    let (pool, caller) = ssr::context()?;
    let now = ssr::now()?;
    let platforms = domain::platforms::list(&pool, &caller, &ssr::every())
        .await?
        .items;
    let environments = named_environments(&pool, &caller, &platforms).await?;
    let mut data = MaintenanceFormData {
        environments,
        environment: None,
        plan: None,
        windows: Vec::new(),
        upstream: None,
        upstream_maintenances: Vec::new(),
        editing: None,
        can_manage: caller.actor.may(domain::Action::ManageCalendar),
    };
    let Some(id) = ssr::maybe_uuid("environment", &environment)? else {
        return Ok(data);
    };
    let env = domain::environments::get(&pool, &caller, id).await?;
    let plan = domain::calendar::plans::plan(&pool, &caller, id).await?;
    let siblings = domain::environments::list(&pool, &caller, env.platform_id, false).await?;
    data.upstream = domain::calendar::rules::upstream(&env, plan.as_ref(), &siblings).cloned();
    if let Some(up) = &data.upstream {
        let query = MaintenanceQuery {
            environment_id: Some(up.id),
            from: Some(now - Duration::days(180)),
            ..Default::default()
        };
        data.upstream_maintenances = maintenances::list(&pool, &caller, &query)
            .await?
            .into_iter()
            .filter(|m| {
                !matches!(
                    m.state,
                    MaintenanceState::Cancelled | MaintenanceState::RolledBack
                )
            })
            .collect();
    }
    if plan.is_some() {
        data.windows = maintenances::open_windows(&pool, &caller, id, now, 400)
            .await?
            .into_iter()
            .take(24)
            .collect();
    }
    data.plan = plan;
    data.environment = Some(env);
    Ok(data)
}

/// A `<input type="datetime-local">` value, read as UTC.
#[cfg(feature = "ssr")]
fn utc_time(field: &str, value: &str) -> UiResult<Option<DateTime<Utc>>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let time = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(value, f).ok())
        .ok_or_else(|| {
            domain::Error::invalid(field, "must be a date and time such as 2027-03-09T20:00")
        })?;
    domain::validate::day(field, time.date())?;
    Ok(Some(time.and_utc()))
}

/// The fields of the maintenance form, as the browser sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceFields {
    pub environment_id: String,
    pub category: String,
    pub title: String,
    #[serde(default)]
    pub window_date: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default)]
    pub kubernetes_from: String,
    #[serde(default)]
    pub kubernetes_to: String,
    #[serde(default)]
    pub node_image: String,
    #[serde(default)]
    pub components: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub expected_impact: String,
    #[serde(default)]
    pub contingency_plan: String,
    #[serde(default)]
    pub lead: String,
    #[serde(default)]
    pub justification: String,
    #[serde(default)]
    pub staging_maintenance_id: Option<String>,
}

#[cfg(feature = "ssr")]
impl MaintenanceFields {
    fn parse(self) -> UiResult<domain::calendar::model::MaintenanceForm> {
        Ok(domain::calendar::model::MaintenanceForm {
            environment_id: ssr::uuid("environment_id", &self.environment_id)?,
            category: self.category,
            title: self.title,
            window_date: ssr::optional_date("window_date", &self.window_date)?,
            starts_at: utc_time("starts_at", &self.starts_at)?,
            ends_at: utc_time("ends_at", &self.ends_at)?,
            kubernetes_from: self.kubernetes_from,
            kubernetes_to: self.kubernetes_to,
            node_image: self.node_image,
            components: self.components,
            description: self.description,
            expected_impact: self.expected_impact,
            contingency_plan: self.contingency_plan,
            lead: self.lead,
            justification: self.justification,
            staging_maintenance_id: ssr::maybe_uuid(
                "staging_maintenance_id",
                &self.staging_maintenance_id,
            )?,
        })
    }
}

/// Goes to the saved maintenance's page, with what the rules warn about.
#[cfg(feature = "ssr")]
fn show_saved(
    saved: domain::calendar::model::MaintenanceSaved,
) -> domain::calendar::model::MaintenanceSaved {
    let query = if saved.warnings.is_empty() {
        String::new()
    } else {
        sealed_warnings(&saved.warnings)
            .map(|sealed| format!("?warnings={sealed}"))
            .unwrap_or_default()
    };
    leptos_axum::redirect(&format!(
        "/calendar/maintenances/{}{query}",
        saved.maintenance.id
    ));
    saved
}

/// Plans a maintenance, then shows it with what the rules warn about.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn create_maintenance(
    #[server(flatten)] fields: MaintenanceFields,
) -> UiResult<domain::calendar::model::MaintenanceSaved> {
    let (pool, caller) = ssr::context()?;
    let form = fields.parse()?;
    let saved = domain::calendar::maintenances::create(&pool, &caller, form, ssr::now()?).await?;
    Ok(show_saved(saved))
}

/// The edit form of a planned or announced maintenance: the new-maintenance form's choices for
/// its environment, with the maintenance to fill it from.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_maintenance_edit(id: String) -> UiResult<MaintenanceFormData> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let maintenance = domain::calendar::maintenances::get(&pool, &caller, id).await?;
    let mut data = load_maintenance_form(Some(maintenance.environment_id.to_string())).await?;
    data.editing = Some(maintenance);
    Ok(data)
}

/// Changes a planned or announced maintenance, if nobody changed it since `base_version`, then
/// shows it with what the rules warn about.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn update_maintenance(
    id: String,
    base_version: String,
    #[server(flatten)] fields: MaintenanceFields,
) -> UiResult<domain::calendar::model::MaintenanceSaved> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let base_version = ssr::number("base_version", &base_version)?;
    let form = fields.parse()?;
    let saved =
        domain::calendar::maintenances::update(&pool, &caller, id, base_version, form, ssr::now()?)
            .await?;
    Ok(show_saved(saved))
}

/// A maintenance, the one it repeats, and the teams' acknowledgements.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_maintenance(
    id: String,
    #[server(default)] warnings: Option<String>,
) -> UiResult<MaintenancePageData> {
    use domain::calendar::maintenances;
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let maintenance = maintenances::get(&pool, &caller, id).await?;
    let staging = match maintenance.staging_maintenance_id {
        Some(s) => Some(maintenances::get(&pool, &caller, s).await?),
        None => None,
    };
    let acknowledgements = maintenances::acknowledgements(&pool, &caller, id)
        .await?
        .into_iter()
        .map(|ack| AckRow {
            can_acknowledge: caller.actor.may(domain::Action::AcknowledgeMaintenance {
                team: &ack.team_slug,
            }),
            ack,
        })
        .collect();
    Ok(MaintenancePageData {
        maintenance,
        staging,
        acknowledgements,
        can_manage: caller.actor.may(domain::Action::ManageCalendar),
        today: ssr::now()?.date_naive(),
        warnings: opened_warnings(warnings.as_deref()),
    })
}

/// One lifecycle step: announce, start, complete, roll-back or cancel (with a reason). What the
/// rules warn about (a major update announced at short notice) is shown on the maintenance's
/// page, as after saving it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn maintenance_step(
    id: String,
    step: String,
    #[server(default)] reason: String,
) -> UiResult<domain::calendar::model::MaintenanceSaved> {
    use domain::calendar::maintenances::{self, Transition};
    let stepped: UiResult<domain::calendar::model::MaintenanceSaved> = async {
        let (pool, caller) = ssr::context()?;
        let transition = Transition::parse(step.trim())
            .ok_or_else(|| domain::Error::invalid("step", "is not a lifecycle step"))?;
        let id = ssr::uuid("id", &id)?;
        let saved =
            maintenances::transition(&pool, &caller, id, transition, &reason, ssr::now()?).await?;
        Ok(if saved.warnings.is_empty() {
            saved
        } else {
            show_saved(saved)
        })
    }
    .await;
    // The page has a form per step: a refusal belongs to the step's own.
    stepped.map_err(|e| e.in_form(step.trim()))
}

/// The filled action-item rows, with the form row each came from (for the row's errors).
#[cfg(feature = "ssr")]
fn action_items(
    rows: Vec<ActionItemField>,
) -> UiResult<(Vec<domain::calendar::model::ActionItemInput>, Vec<usize>)> {
    let mut items = Vec::new();
    let mut rows_of = Vec::new();
    for (n, row) in rows.into_iter().enumerate() {
        if row.title.trim().is_empty()
            && row.owner.trim().is_empty()
            && row.due_on.trim().is_empty()
        {
            continue;
        }
        let due_on = ssr::optional_date(&format!("action_items[{n}].due_on"), &row.due_on)?
            .ok_or_else(|| {
                domain::Error::invalid(&format!("action_items[{n}].due_on"), "is required")
            })?;
        items.push(domain::calendar::model::ActionItemInput {
            title: row.title,
            owner: row.owner,
            due_on,
        });
        rows_of.push(n);
    }
    Ok((items, rows_of))
}

/// Moves the domain's `action_items[i]` messages to the form row the item came from.
#[cfg(feature = "ssr")]
fn to_rows(error: domain::Error, rows_of: &[usize]) -> domain::Error {
    match error {
        domain::Error::Invalid { fields } => domain::Error::Invalid {
            fields: fields
                .into_iter()
                .map(|(key, message)| {
                    let renamed = key
                        .strip_prefix("action_items[")
                        .and_then(|rest| rest.split_once(']'))
                        .and_then(|(i, tail)| {
                            let row = rows_of.get(i.parse::<usize>().ok()?)?;
                            Some(format!("action_items[{row}]{tail}"))
                        });
                    (renamed.unwrap_or(key), message)
                })
                .collect(),
        },
        other => other,
    }
}

/// Writes the retrospective of an ended maintenance and adds its new action items, against the
/// version of the maintenance the form was loaded at.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn write_maintenance_retrospective(
    id: String,
    base_version: String,
    #[server(default)] went_well: String,
    #[server(default)] to_improve: String,
    #[server(default)] action_items: Vec<ActionItemField>,
) -> UiResult<Maintenance> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let base_version = ssr::number("base_version", &base_version)?;
    let (items, rows_of) = self::action_items(action_items)?;
    let form = domain::calendar::model::RetrospectiveForm {
        went_well,
        to_improve,
        action_items: items,
    };
    domain::calendar::maintenances::write_retrospective(
        &pool,
        &caller,
        id,
        base_version,
        form,
        ssr::now()?,
    )
    .await
    .map_err(|e| to_rows(e, &rows_of).into())
}

/// Marks an action item done.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn complete_action_item(id: String) -> UiResult<ActionItem> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    Ok(
        domain::calendar::maintenances::complete_action_item(&pool, &caller, id, ssr::now()?)
            .await?,
    )
}

/// A team acknowledges an announced major update.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn acknowledge_maintenance(
    id: String,
    team_id: String,
) -> UiResult<Vec<Acknowledgement>> {
    let (pool, caller) = ssr::context()?;
    let (id, team_id) = (ssr::uuid("id", &id)?, ssr::uuid("team_id", &team_id)?);
    Ok(
        domain::calendar::maintenances::acknowledge(&pool, &caller, id, team_id, ssr::now()?)
            .await?,
    )
}

/// The new-drill form's choices: platforms and applications.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_drill_form() -> UiResult<DrillFormData> {
    let (pool, caller) = ssr::context()?;
    let query = domain::model::ListQuery {
        per_page: 200,
        ..Default::default()
    };
    let applications = domain::applications::list(
        &pool,
        &caller,
        &query,
        &domain::applications::Filter {
            team_id: None,
            environment_id: None,
        },
    )
    .await?
    .items
    .into_iter()
    .map(|a| (a.id.to_string(), format!("{} ({})", a.name, a.team_slug)))
    .collect();
    Ok(DrillFormData {
        platforms: domain::platforms::list(&pool, &caller, &ssr::every())
            .await?
            .items,
        applications,
    })
}

/// The drill form's fields as posted (planning and changing a drill share them).
#[cfg(feature = "ssr")]
struct DrillFields {
    platform_id: String,
    application_id: Option<String>,
    title: String,
    goal: String,
    scenario: String,
    starting_state: String,
    participants: String,
    observers: String,
    leader: String,
    starts_at: String,
    ends_at: String,
    target_rpo_minutes: String,
    target_rto_minutes: String,
    target_retention_days: String,
}

#[cfg(feature = "ssr")]
impl DrillFields {
    /// The domain's form, or the first field that cannot be read.
    fn parse(self) -> Result<domain::calendar::model::DrillForm, UiError> {
        let required = |field: &str, value: &str| {
            utc_time(field, value)?
                .ok_or_else(|| UiError::from(domain::Error::invalid(field, "is required")))
        };
        Ok(domain::calendar::model::DrillForm {
            platform_id: ssr::uuid("platform_id", &self.platform_id)?,
            application_id: ssr::maybe_uuid("application_id", &self.application_id)?,
            starts_at: required("starts_at", &self.starts_at)?,
            ends_at: required("ends_at", &self.ends_at)?,
            target_rpo_minutes: ssr::number("target_rpo_minutes", &self.target_rpo_minutes)?,
            target_rto_minutes: ssr::number("target_rto_minutes", &self.target_rto_minutes)?,
            target_retention_days: ssr::number(
                "target_retention_days",
                &self.target_retention_days,
            )?,
            title: self.title,
            goal: self.goal,
            scenario: self.scenario,
            starting_state: self.starting_state,
            participants: self.participants,
            observers: self.observers,
            leader: self.leader,
        })
    }
}

/// Plans a DR drill (no id) or changes a planned one (its id and the version edited), then
/// shows it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_drill(
    #[server(default)] id: Option<String>,
    #[server(default)] version: Option<String>,
    platform_id: String,
    #[server(default)] application_id: Option<String>,
    title: String,
    #[server(default)] goal: String,
    #[server(default)] scenario: String,
    #[server(default)] starting_state: String,
    #[server(default)] participants: String,
    #[server(default)] observers: String,
    #[server(default)] leader: String,
    starts_at: String,
    ends_at: String,
    target_rpo_minutes: String,
    target_rto_minutes: String,
    target_retention_days: String,
) -> UiResult<Drill> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::maybe_uuid("id", &id)?;
    let form = DrillFields {
        platform_id,
        application_id,
        title,
        goal,
        scenario,
        starting_state,
        participants,
        observers,
        leader,
        starts_at,
        ends_at,
        target_rpo_minutes,
        target_rto_minutes,
        target_retention_days,
    }
    .parse()?;
    let drill = match id {
        None => domain::calendar::drills::create(&pool, &caller, form).await?,
        Some(id) => {
            let version = ssr::number("version", version.as_deref().unwrap_or_default())?;
            domain::calendar::drills::update(&pool, &caller, id, version, form).await?
        }
    };
    leptos_axum::redirect(&format!("/calendar/drills/{}", drill.id));
    Ok(drill)
}

/// A drill and what the signed-in person may do with it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_drill(id: String) -> UiResult<DrillPageData> {
    let (pool, caller) = ssr::context()?;
    let drill = domain::calendar::drills::get(&pool, &caller, ssr::uuid("id", &id)?).await?;
    let can_work = match drill.application_id {
        None => caller.actor.may(domain::Action::ManageCalendar),
        Some(app) => {
            let team = domain::applications::get(&pool, &caller, app)
                .await?
                .team_slug;
            caller
                .actor
                .may(domain::Action::WorkOnTeamCalendar { team: &team })
        }
    };
    let now = ssr::now()?;
    Ok(DrillPageData {
        started: drill.starts_at <= now,
        drill,
        can_work,
        today: now.date_naive(),
    })
}

/// Records what a drill measured and its retrospective.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn record_drill_result(
    id: String,
    measured_rpo_minutes: String,
    measured_rto_minutes: String,
    #[server(default)] retention_verified: String,
    #[server(default)] went_well: String,
    #[server(default)] to_improve: String,
    #[server(default)] action_items: Vec<ActionItemField>,
) -> UiResult<Drill> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let (items, rows_of) = self::action_items(action_items)?;
    let form = domain::calendar::model::DrillResultForm {
        measured_rpo_minutes: ssr::number("measured_rpo_minutes", &measured_rpo_minutes)?,
        measured_rto_minutes: ssr::number("measured_rto_minutes", &measured_rto_minutes)?,
        retention_verified: match retention_verified.trim() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        went_well,
        to_improve,
        action_items: items,
    };
    domain::calendar::drills::record_result(&pool, &caller, id, form, ssr::now()?)
        .await
        .map_err(|e| to_rows(e, &rows_of).into())
}

/// Cancels a planned drill, saying why.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn cancel_drill(id: String, #[server(default)] reason: String) -> UiResult<Drill> {
    let (pool, caller) = ssr::context()?;
    Ok(domain::calendar::drills::cancel(&pool, &caller, ssr::uuid("id", &id)?, &reason).await?)
}

/// The feeds, what new ones can be made for, and the teams' e-mail recipients.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_feeds() -> UiResult<FeedsPageData> {
    use domain::calendar::model::FeedScope;
    let (pool, caller) = ssr::context()?;
    let can_manage = caller.actor.may(domain::Action::ManageCalendar);
    let all_teams = domain::teams::list(&pool, &caller, &ssr::every())
        .await?
        .items;
    let may_team = |id: uuid::Uuid| {
        all_teams.iter().any(|t| {
            t.id == id
                && caller
                    .actor
                    .may(domain::Action::WorkOnTeamCalendar { team: &t.slug })
        })
    };
    let feeds = domain::calendar::events::feeds(&pool, &caller)
        .await?
        .into_iter()
        .map(|feed| FeedRow {
            can_manage: match feed.scope {
                FeedScope::Team => may_team(feed.scope_id),
                _ => can_manage,
            },
            feed,
        })
        .collect();
    let mut teams = Vec::new();
    for team in &all_teams {
        if may_team(team.id) {
            teams.push(TeamRecipients {
                emails: domain::calendar::notices::team_emails(&pool, &caller, team.id).await?,
                team: team.clone(),
            });
        }
    }
    let platforms = domain::platforms::list(&pool, &caller, &ssr::every())
        .await?
        .items;
    Ok(FeedsPageData {
        feeds,
        environments: named_environments(&pool, &caller, &platforms).await?,
        platforms,
        teams,
        can_manage,
    })
}

/// Makes (or rotates) the feed of an environment, a platform or a team; its address is in the
/// answer, once.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn make_feed(scope: String, scope_id: String) -> UiResult<CreatedFeed> {
    use domain::calendar::model::{FeedForm, FeedScope};
    let (pool, caller) = ssr::context()?;
    let form = FeedForm {
        scope: FeedScope::parse(scope.trim()).ok_or_else(|| {
            domain::Error::invalid("scope", "choose an environment, a platform or a team")
        })?,
        scope_id: ssr::uuid("scope_id", &scope_id)?,
    };
    let secret = domain::calendar::events::make_feed(&pool, &caller, form, ssr::now()?).await?;
    // The address the browser reached Demarc at; a proxy that strips Origin leaves the path.
    let origin = use_context::<http::request::Parts>()
        .and_then(|p| p.headers.get(http::header::ORIGIN).cloned())
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .filter(|o| o.starts_with("http://") || o.starts_with("https://"))
        .unwrap_or_default();
    Ok(CreatedFeed {
        url: format!("{origin}{}", secret.path),
        feed: secret.feed,
    })
}

/// Removes a feed: its address stops working.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn remove_feed(id: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    Ok(domain::calendar::events::remove_feed(&pool, &caller, ssr::uuid("id", &id)?).await?)
}

/// Adds an e-mail recipient of a team's maintenance notices.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn add_team_email(team_id: String, address: String) -> UiResult<TeamEmail> {
    let (pool, caller) = ssr::context()?;
    let form = domain::calendar::model::TeamEmailForm { address };
    Ok(domain::calendar::notices::add_team_email(
        &pool,
        &caller,
        ssr::secrets()?.as_ref(),
        ssr::uuid("team_id", &team_id)?,
        form,
    )
    .await?)
}

/// Removes a team's e-mail recipient.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn remove_team_email(id: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    Ok(domain::calendar::notices::remove_team_email(&pool, &caller, id, ssr::now()?).await?)
}

/// Open action items, maintenances waiting for their retrospective, drills without a result and
/// end-of-life warnings.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_calendar_dashboard() -> UiResult<CalendarDashboard> {
    use domain::calendar::{drills, maintenances};
    let (pool, caller) = ssr::context()?;
    caller.actor.authorize(domain::Action::Read)?;
    let now = ssr::now()?;
    // The same for every reader: computed once per data version and minute.
    let cache = ssr::cache()?;
    let key = (cache.version(&pool).await?, now.timestamp().div_euclid(60));
    if let Some(d) = cache.memo::<CalendarDashboard>("calendar-dashboard", key) {
        return Ok((*d).clone());
    }
    let dashboard = CalendarDashboard {
        today: now.date_naive(),
        awaiting_acknowledgement: maintenances::awaiting_acknowledgement(&pool, &caller, now)
            .await?,
        action_items: maintenances::open_action_items(&pool, &caller).await?,
        retrospectives_due: maintenances::retrospectives_due(&pool, &caller).await?,
        drill_results_overdue: drills::results_overdue(&pool, &caller, now).await?,
        end_of_life: domain::calendar::events::end_of_life(&pool, &caller, now.date_naive())
            .await?
            .into_iter()
            .filter(warns)
            .collect(),
    };
    cache.put_memo(
        "calendar-dashboard",
        key,
        std::sync::Arc::new(dashboard.clone()),
    );
    Ok(dashboard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_read_and_write_in_days_hours_and_minutes() {
        assert_eq!(
            parse_reminders("7d, 72h, 1h, 30").unwrap(),
            [10080, 4320, 60, 30]
        );
        assert_eq!(parse_reminders(" 2 days ,1w").unwrap(), [2880, 10080]);
        assert!(parse_reminders("soon").is_err());
        assert!(parse_reminders("99999999999d").is_err());
        assert_eq!(format_reminders(&[10080, 4320, 60, 90]), "7d, 3d, 1h, 90m");
    }

    #[test]
    fn the_grid_runs_monday_to_sunday_around_the_month() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        // March 2027 starts on a Monday and ends on a Wednesday.
        assert_eq!(grid_range(d(2027, 3, 1)), (d(2027, 3, 1), d(2027, 4, 4)));
        assert_eq!(add_months(d(2027, 12, 1), 1), d(2028, 1, 1));
        assert_eq!(add_months(d(2027, 1, 1), -1), d(2026, 12, 1));
    }
}
