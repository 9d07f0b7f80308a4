//! The calendar's stored things as the UI, REST and the store share them: plans, blackouts,
//! maintenances and their lifecycle, retrospectives, action items, drills, acknowledgements and
//! the events the month grid and the feeds show. Plain serde types; the rules live in the store.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "server")]
use utoipa::ToSchema;

use super::{BlackoutPolicy, Recurrence, SkewViolation};

/// The kind of change a maintenance makes (semantic versioning of the platform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Small and safe: applied in any window that allows it.
    SecurityPatch,
    /// Backwards compatible.
    Minor,
    /// Application teams will notice: needs notice and acknowledgement.
    Major,
    /// A critical security patch applied at once: skips notice and skew, needs a justification
    /// and a retrospective.
    Emergency,
}

impl Category {
    pub const PLANNABLE: [Category; 3] =
        [Category::SecurityPatch, Category::Minor, Category::Major];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::SecurityPatch => "security_patch",
            Category::Minor => "minor",
            Category::Major => "major",
            Category::Emergency => "emergency",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::SecurityPatch => "Security patch",
            Category::Minor => "Minor update",
            Category::Major => "Major update",
            Category::Emergency => "Emergency",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Some(match s {
            "security_patch" => Category::SecurityPatch,
            "minor" => Category::Minor,
            "major" => Category::Major,
            "emergency" => Category::Emergency,
            _ => return None,
        })
    }
}

/// Where a maintenance is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceState {
    Planned,
    Announced,
    InProgress,
    Completed,
    Cancelled,
    RolledBack,
}

impl MaintenanceState {
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceState::Planned => "planned",
            MaintenanceState::Announced => "announced",
            MaintenanceState::InProgress => "in_progress",
            MaintenanceState::Completed => "completed",
            MaintenanceState::Cancelled => "cancelled",
            MaintenanceState::RolledBack => "rolled_back",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MaintenanceState::Planned => "Planned",
            MaintenanceState::Announced => "Announced",
            MaintenanceState::InProgress => "In progress",
            MaintenanceState::Completed => "Completed",
            MaintenanceState::Cancelled => "Cancelled",
            MaintenanceState::RolledBack => "Rolled back",
        }
    }

    pub fn parse(s: &str) -> Option<MaintenanceState> {
        Some(match s {
            "planned" => MaintenanceState::Planned,
            "announced" => MaintenanceState::Announced,
            "in_progress" => MaintenanceState::InProgress,
            "completed" => MaintenanceState::Completed,
            "cancelled" => MaintenanceState::Cancelled,
            "rolled_back" => MaintenanceState::RolledBack,
            _ => return None,
        })
    }

    /// Not started yet: may still be edited or cancelled.
    pub fn is_upcoming(self) -> bool {
        matches!(
            self,
            MaintenanceState::Planned | MaintenanceState::Announced
        )
    }

    /// Ended one way or another (a retrospective can be written).
    pub fn is_ended(self) -> bool {
        matches!(
            self,
            MaintenanceState::Completed | MaintenanceState::RolledBack
        )
    }
}

/// How an environment's windows are scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanRhythm {
    /// Its own recurrence (staging, or any environment that leads).
    Own {
        #[cfg_attr(feature = "server", schema(value_type = Object))]
        recurrence: Recurrence,
        /// The RRULE value it is stored as.
        rrule: String,
        /// For a production environment: the working days each of its windows keeps after the
        /// latest window of the environment before it (None: at least 1, a later working day).
        #[serde(default)]
        soak_working_days: Option<i32>,
    },
    /// Each window follows a window of another environment by a soak period.
    Follows {
        environment_id: Uuid,
        environment_slug: String,
        soak_working_days: i32,
    },
}

/// An environment's maintenance plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct MaintenancePlan {
    pub environment_id: Uuid,
    pub environment_slug: String,
    pub environment_name: String,
    pub platform_id: Uuid,
    pub rhythm: PlanRhythm,
    /// Local start time, `HH:MM`.
    pub start_time: String,
    pub time_zone: String,
    pub duration_hours: i32,
    pub blackout_policy: BlackoutPolicy,
    /// The kinds of change the windows may carry (emergencies are always allowed).
    pub allowed_categories: Vec<Category>,
    /// Grows with every change of the plan or of a blackout that touches it.
    pub revision: i32,
    pub version: i32,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// What a caller sends to create or replace an environment's plan: either `recurrence` (its own
/// rhythm) or `follows_environment_id` with `soak_working_days` (relative to staging). A
/// production environment with its own rhythm may give `soak_working_days` too: the working days
/// each of its windows keeps after the latest window of the environment before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct PlanForm {
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub recurrence: Option<Recurrence>,
    #[serde(default)]
    pub follows_environment_id: Option<Uuid>,
    #[serde(default)]
    pub soak_working_days: Option<i64>,
    pub start_time: String,
    pub time_zone: String,
    pub duration_hours: i64,
    #[serde(default)]
    pub blackout_policy: BlackoutPolicy,
    pub allowed_categories: Vec<Category>,
    /// The version the caller edited; 0 to create the plan.
    #[serde(default)]
    pub base_version: i32,
}

/// A stored blackout of a platform or one of its environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct BlackoutEntry {
    pub id: Uuid,
    pub platform_id: Uuid,
    /// None: every environment of the platform.
    pub environment_id: Option<Uuid>,
    pub environment_slug: Option<String>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Planned or announced maintenances any part of whose window falls on the blackout's days
    /// (an overnight window that runs into them too): the blackout skips or moves that window and
    /// stops the maintenance from being announced or started, so each must be moved to another
    /// window or cancelled. Listed with a platform's blackouts and in the answer to adding one.
    #[serde(default)]
    pub conflicts: Vec<BlackoutConflict>,
}

/// A maintenance a blackout is in the way of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct BlackoutConflict {
    pub maintenance_id: Uuid,
    pub title: String,
    pub environment_slug: String,
    /// The local day of the window it takes.
    pub window_date: NaiveDate,
    /// `planned` or `announced`.
    pub state: String,
}

/// What a change to a plan or a blackout does to what is already planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CalendarWarningKind {
    /// A planned or announced maintenance now falls in a blackout: it cannot be announced or
    /// started there.
    InBlackout,
    /// A planned or announced maintenance's window is no longer a window of the plan (the day
    /// went, or the window moved to other hours).
    NotAWindow,
    /// A production window now comes too early after the environment before it.
    SkewViolation,
}

/// A consequence of a saved plan or a new blackout that needs someone's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CalendarWarning {
    pub kind: CalendarWarningKind,
    pub environment_slug: String,
    /// The maintenance concerned (none for a skew violation).
    pub maintenance_id: Option<Uuid>,
    /// The local day concerned.
    pub date: NaiveDate,
    /// What is wrong and what to do, in plain words.
    pub message: String,
}

/// A saved plan, with what it does to what is already planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct PlanSaved {
    #[serde(flatten)]
    pub plan: MaintenancePlan,
    pub warnings: Vec<CalendarWarning>,
}

/// A new blackout, with what it does to what is already planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct BlackoutSaved {
    #[serde(flatten)]
    pub blackout: BlackoutEntry,
    pub warnings: Vec<CalendarWarning>,
}

/// What removing a blackout does to what is already planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct BlackoutRemoved {
    /// The platform the blackout was on.
    pub platform_id: Uuid,
    pub warnings: Vec<CalendarWarning>,
}

/// What a caller sends to add a blackout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct BlackoutForm {
    #[serde(default)]
    pub environment_id: Option<Uuid>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: String,
}

/// A platform's notice and reminder settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CalendarSettings {
    /// Days of notice a major update needs (default 30; below 60 is warned about).
    pub major_notice_days: i32,
    /// When reminders go out, in minutes before a maintenance starts (default 7 days, 72 h, 1 h).
    pub reminder_minutes: Vec<i32>,
    /// Grows with every change; the settings' ETag. A request's is ignored: `If-Match` (or the
    /// form's hidden field) says which version the change was made to.
    #[serde(default)]
    pub version: i32,
}

/// One window of an environment's schedule, with what is planned in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Window {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The local day it starts on (the window's key).
    pub local_date: NaiveDate,
    /// The day the rhythm gave, when a blackout moved it.
    pub moved_from: Option<NaiveDate>,
    pub moved_by: Option<String>,
    /// For a following environment: the leading environment's window day it follows.
    pub follows: Option<NaiveDate>,
}

/// A window a blackout removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct SkippedWindow {
    pub nominal_date: NaiveDate,
    pub reason: String,
}

/// An environment's schedule over a period: windows, skipped windows and skew problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct EnvironmentSchedule {
    pub environment_id: Uuid,
    pub plan: Option<MaintenancePlan>,
    /// The environment whose windows these windows follow (`windows[].follows` names its
    /// window's day): the one the plan follows, or for a production plan with its own rhythm
    /// the environment before it.
    pub follows_environment: Option<String>,
    pub windows: Vec<Window>,
    pub skipped: Vec<SkippedWindow>,
    /// Windows that do not respect the soak period after the leading environment (next 12 months).
    #[cfg_attr(feature = "server", schema(value_type = Vec<Object>))]
    pub skew_violations: Vec<SkewViolation>,
}

/// A retrospective after a maintenance or a drill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Retrospective {
    pub went_well: String,
    pub to_improve: String,
    pub written_at: Option<DateTime<Utc>>,
    pub action_items: Vec<ActionItem>,
}

/// A follow-up from a retrospective, with an owner and a due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ActionItem {
    pub id: Uuid,
    pub maintenance_id: Option<Uuid>,
    pub drill_id: Option<Uuid>,
    /// The title of the maintenance or drill it came from.
    pub source: String,
    pub title: String,
    pub owner: String,
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

/// A new action item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ActionItemInput {
    pub title: String,
    pub owner: String,
    pub due_on: NaiveDate,
}

/// What a caller sends to write a retrospective (it replaces an earlier one's text and adds the
/// action items).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RetrospectiveForm {
    pub went_well: String,
    pub to_improve: String,
    #[serde(default)]
    pub action_items: Vec<ActionItemInput>,
}

/// A planned change in one window of an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Maintenance {
    pub id: Uuid,
    pub environment_id: Uuid,
    pub environment_slug: String,
    pub environment_name: String,
    pub is_production: bool,
    pub platform_id: Uuid,
    pub platform_slug: String,
    pub platform_name: String,
    pub category: Category,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The plan window it takes (None for an emergency).
    pub window_date: Option<NaiveDate>,
    pub kubernetes_from: String,
    pub kubernetes_to: String,
    pub node_image: String,
    pub components: String,
    pub description: String,
    pub expected_impact: String,
    pub contingency_plan: String,
    pub lead: String,
    pub justification: String,
    /// For a following environment: the earlier maintenance of the leading one it repeats.
    pub staging_maintenance_id: Option<Uuid>,
    pub state: MaintenanceState,
    pub announced_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub cancel_reason: String,
    pub retrospective: Option<Retrospective>,
    /// Ended without a retrospective yet (mandatory after an emergency, asked for after any).
    pub retrospective_due: bool,
    /// The ICS SEQUENCE: bumped on every change subscribers should see.
    pub sequence: i32,
    pub version: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller sends to plan a maintenance or to change a planned one. A plannable category
/// takes one of the environment's windows (`window_date`, the local day it starts); an emergency
/// gives its own `starts_at` and `ends_at` and a `justification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct MaintenanceForm {
    pub environment_id: Uuid,
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub category: String,
    pub title: String,
    #[serde(default)]
    pub window_date: Option<NaiveDate>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
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
    pub lead: String,
    #[serde(default)]
    pub justification: String,
    #[serde(default)]
    pub staging_maintenance_id: Option<Uuid>,
}

/// A maintenance as saved, with what the rules want people to know (e.g. short notice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct MaintenanceSaved {
    pub maintenance: Maintenance,
    pub warnings: Vec<String>,
}

/// Whether a team that runs applications in the environment has acknowledged a major
/// maintenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Acknowledgement {
    pub team_id: Uuid,
    pub team_slug: String,
    pub team_name: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// False when the maintenance changed after the acknowledgement.
    pub current: bool,
}

/// An announced major update still to come, with the teams running in its environment that have
/// not acknowledged it yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwaitingAcknowledgement {
    pub maintenance_id: Uuid,
    pub title: String,
    pub environment_slug: String,
    pub starts_at: DateTime<Utc>,
    /// Team names, by name.
    pub teams: Vec<String>,
}

/// A disaster-recovery drill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Drill {
    pub id: Uuid,
    pub platform_id: Uuid,
    pub platform_slug: String,
    pub application_id: Option<Uuid>,
    pub application_slug: Option<String>,
    pub title: String,
    pub goal: String,
    pub scenario: String,
    pub starting_state: String,
    pub participants: String,
    /// Who watches and takes notes, apart from those who act.
    pub observers: String,
    pub leader: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub target_rpo_minutes: i32,
    pub target_rto_minutes: i32,
    pub target_retention_days: i32,
    /// `planned`, `completed` or `cancelled`.
    pub state: String,
    pub measured_rpo_minutes: Option<i32>,
    pub measured_rto_minutes: Option<i32>,
    pub retention_verified: Option<bool>,
    pub rpo_met: Option<bool>,
    pub rto_met: Option<bool>,
    pub retrospective: Option<Retrospective>,
    /// Why it was called off, when it was.
    pub cancel_reason: Option<String>,
    pub version: i32,
    pub created_by: String,
    /// When it last changed (the feed's LAST-MODIFIED).
    pub updated_at: DateTime<Utc>,
}

/// What a caller sends to plan or change a drill.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct DrillForm {
    pub platform_id: Uuid,
    #[serde(default)]
    pub application_id: Option<Uuid>,
    pub title: String,
    pub goal: String,
    pub scenario: String,
    #[serde(default)]
    pub starting_state: String,
    #[serde(default)]
    pub participants: String,
    #[serde(default)]
    pub observers: String,
    pub leader: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub target_rpo_minutes: i64,
    pub target_rto_minutes: i64,
    pub target_retention_days: i64,
}

/// What a caller sends after a drill: the measurements and the retrospective.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct DrillResultForm {
    pub measured_rpo_minutes: i64,
    pub measured_rto_minutes: i64,
    #[serde(default)]
    pub retention_verified: Option<bool>,
    // The retrospective's fields, written out rather than a flattened [`RetrospectiveForm`]:
    // serde reads a flattened struct from a buffer that hides a misspelt field from the API's
    // unknown-field check.
    pub went_well: String,
    pub to_improve: String,
    #[serde(default)]
    pub action_items: Vec<ActionItemInput>,
}

impl DrillResultForm {
    /// The retrospective part of the result.
    pub fn retrospective(&self) -> RetrospectiveForm {
        RetrospectiveForm {
            went_well: self.went_well.clone(),
            to_improve: self.to_improve.clone(),
            action_items: self.action_items.clone(),
        }
    }
}

/// What an entry on the calendar is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A plan's window with nothing planned in it yet.
    Window,
    Maintenance,
    Drill,
    Audit,
    Blackout,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Window,
        EventKind::Maintenance,
        EventKind::Drill,
        EventKind::Audit,
        EventKind::Blackout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Window => "window",
            EventKind::Maintenance => "maintenance",
            EventKind::Drill => "drill",
            EventKind::Audit => "audit",
            EventKind::Blackout => "blackout",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EventKind::Window => "Window",
            EventKind::Maintenance => "Maintenance",
            EventKind::Drill => "DR drill",
            EventKind::Audit => "Audit",
            EventKind::Blackout => "Blackout",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry of the month grid, the agenda and the feeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CalendarEvent {
    /// Stable across changes: the feed's UID.
    pub uid: String,
    pub kind: EventKind,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Whole days (blackouts, audits): the local days it covers.
    pub all_day: Option<(NaiveDate, NaiveDate)>,
    /// The local day the entry is shown on in the grid (the window's day in its zone).
    pub local_date: NaiveDate,
    pub platform_slug: String,
    pub environment_id: Option<Uuid>,
    pub environment_slug: Option<String>,
    pub is_production: bool,
    /// For a following environment's window: the leading environment's window day; for a
    /// maintenance that repeats an earlier environment's: that maintenance's day.
    pub follows: Option<NaiveDate>,
    /// The environment (slug) `follows` refers to.
    pub follows_environment: Option<String>,
    pub category: Option<Category>,
    pub state: Option<String>,
    pub cancelled: bool,
    /// Detail page, when there is one.
    pub link: Option<String>,
    pub detail: String,
    /// The ICS SEQUENCE.
    pub sequence: i64,
    pub updated_at: DateTime<Utc>,
}

/// Which entries the calendar shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CalendarFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Platform slug.
    pub platform: Option<String>,
    /// Environment id.
    pub environment: Option<Uuid>,
    /// Team slug: the environments its applications run in, and its applications' drills.
    pub team: Option<String>,
    /// Empty: every kind.
    pub kinds: Vec<EventKind>,
}

/// An environment's Kubernetes end-of-life status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct EnvironmentEol {
    pub environment_id: Uuid,
    pub environment_slug: String,
    pub platform_slug: String,
    /// The version the cluster reported at its last connection test.
    pub server_version: Option<String>,
    pub minor: Option<String>,
    pub end_of_life: Option<NaiveDate>,
    pub days_left: Option<i64>,
    /// `supported`, `within_90`, `within_60`, `within_30`, `expired` or `unknown`.
    pub level: String,
    pub message: String,
}

/// Which calendar a feed publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedScope {
    Environment,
    Platform,
    Team,
}

impl FeedScope {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedScope::Environment => "environment",
            FeedScope::Platform => "platform",
            FeedScope::Team => "team",
        }
    }

    pub fn parse(s: &str) -> Option<FeedScope> {
        Some(match s {
            "environment" => FeedScope::Environment,
            "platform" => FeedScope::Platform,
            "team" => FeedScope::Team,
            _ => return None,
        })
    }
}

/// A subscription feed (its token is never shown again after it is made).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Feed {
    pub id: Uuid,
    pub scope: FeedScope,
    pub scope_id: Uuid,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
}

/// A feed with its secret URL path, shown once after it is created or rotated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct FeedSecret {
    pub feed: Feed,
    /// `/ics/<token>.ics`: append to Demarc's public URL.
    pub path: String,
}

/// What a caller sends to make (or rotate) a feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct FeedForm {
    pub scope: FeedScope,
    pub scope_id: Uuid,
}

/// A team's e-mail recipient of maintenance notices (the address is sealed at rest; `hint` shows
/// enough to recognise it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TeamEmail {
    pub id: Uuid,
    pub team_id: Uuid,
    pub hint: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What a caller sends to add an e-mail recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TeamEmailForm {
    pub address: String,
}
