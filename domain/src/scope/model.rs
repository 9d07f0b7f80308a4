//! The scope's types: plain serde structs shared by the UI, the REST API and the store.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "server")]
use utoipa::{IntoParams, ToSchema};

use crate::validate::Problems;

/// Who can hold a responsibility: the platform's own team, every application team on the
/// platform, one named team, or a party outside the organisation's teams (an infrastructure
/// provider, the IT systems team...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Party {
    /// The team that runs the platform.
    PlatformTeam,
    /// Each application team that runs on the platform, for its own applications.
    Tenants,
    /// A team known to Demarc (its slug and name as they were when it was recorded).
    Team {
        id: Uuid,
        slug: String,
        name: String,
    },
    /// Someone outside Demarc's teams, by name.
    External { name: String },
}

/// How a party is written in forms and API input.
pub const PLATFORM_TEAM_TOKEN: &str = "@platform";
/// How "each application team" is written in forms and API input.
pub const TENANTS_TOKEN: &str = "@tenants";

/// A team that a party written as text may refer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

impl Party {
    /// Reads a party as people write it: `@platform`, `@tenants`, a team's slug or name (any
    /// case), or else the name of an external party. Returns None for blank text.
    pub fn parse(text: &str, teams: &[TeamRef]) -> Option<Party> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if text.eq_ignore_ascii_case(PLATFORM_TEAM_TOKEN) {
            return Some(Party::PlatformTeam);
        }
        if text.eq_ignore_ascii_case(TENANTS_TOKEN) {
            return Some(Party::Tenants);
        }
        let team = teams
            .iter()
            .find(|t| t.slug.eq_ignore_ascii_case(text))
            .or_else(|| teams.iter().find(|t| t.name.eq_ignore_ascii_case(text)));
        Some(match team {
            Some(t) => Party::Team {
                id: t.id,
                slug: t.slug.clone(),
                name: t.name.clone(),
            },
            None => Party::External {
                name: text.to_owned(),
            },
        })
    }

    /// The text that [`Party::parse`] reads back into this party (what an edit form shows).
    pub fn as_input(&self) -> String {
        match self {
            Party::PlatformTeam => PLATFORM_TEAM_TOKEN.to_owned(),
            Party::Tenants => TENANTS_TOKEN.to_owned(),
            Party::Team { slug, .. } => slug.clone(),
            Party::External { name } => name.clone(),
        }
    }

    /// A label for people.
    pub fn label(&self) -> String {
        match self {
            Party::PlatformTeam => "Platform team".to_owned(),
            Party::Tenants => "Each application team".to_owned(),
            Party::Team { name, .. } => name.clone(),
            Party::External { name } => format!("{name} (external)"),
        }
    }

    /// True for parties outside the organisation's teams.
    pub fn is_external(&self) -> bool {
        matches!(self, Party::External { .. })
    }
}

/// One activity of an item and who is Responsible, Accountable, Consulted and Informed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RaciRow {
    /// What is done: upgrades, backups, restores, node replacement, IdP connection...
    pub activity: String,
    pub responsible: Vec<Party>,
    /// Exactly one party answers for the outcome.
    pub accountable: Party,
    #[serde(default)]
    pub consulted: Vec<Party>,
    #[serde(default)]
    pub informed: Vec<Party>,
}

/// A RACI row as a caller writes it: parties as text (see [`Party::parse`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RaciRowInput {
    pub activity: String,
    #[serde(default)]
    pub responsible: Vec<String>,
    /// Exactly one party.
    #[serde(default)]
    pub accountable: Vec<String>,
    #[serde(default)]
    pub consulted: Vec<String>,
    #[serde(default)]
    pub informed: Vec<String>,
}

/// A component or activity and which side of the fence it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeItem {
    /// Stable across revisions: the diff follows an item by its id.
    pub id: Uuid,
    pub name: String,
    pub category: String,
    /// True when the platform team is responsible for it.
    pub inside: bool,
    pub responsible: Party,
    /// Whom to call when it breaks (for what is outside the fence).
    pub escalation_contact: String,
    pub notes: String,
    pub raci: Vec<RaciRow>,
    pub position: i32,
    /// Increases on every change of the draft item; send it back to update.
    pub version: i32,
}

/// What a caller sends to create or edit a scope item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeItemInput {
    pub name: String,
    #[serde(default)]
    pub category: String,
    pub inside: bool,
    /// A party as text: `@platform`, `@tenants`, a team's slug or name, or an external name.
    pub responsible: String,
    #[serde(default)]
    pub escalation_contact: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub raci: Vec<RaciRowInput>,
    #[serde(default)]
    pub position: i32,
}

/// A rule application teams follow on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TenantRule {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    /// Why the rule exists.
    pub reason: String,
    /// How to ask for an exception.
    pub exception_process: String,
    pub position: i32,
    pub version: i32,
}

/// What a caller sends to create or edit a tenant rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TenantRuleInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub reason: String,
    #[serde(default)]
    pub exception_process: String,
    #[serde(default)]
    pub position: i32,
}

/// Items and rules: what a draft holds and what a revision freezes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeContent {
    pub items: Vec<ScopeItem>,
    pub rules: Vec<TenantRule>,
}

impl ScopeContent {
    /// Items inside the fence, in order.
    pub fn inside(&self) -> impl Iterator<Item = &ScopeItem> {
        self.items.iter().filter(|i| i.inside)
    }

    /// Items outside the fence, in order.
    pub fn outside(&self) -> impl Iterator<Item = &ScopeItem> {
        self.items.iter().filter(|i| !i.inside)
    }

    /// Every party named anywhere in the RACI rows, in a stable order: the matrix's columns.
    pub fn raci_parties(&self) -> Vec<Party> {
        let mut parties: Vec<Party> = self
            .items
            .iter()
            .flat_map(|i| i.raci.iter())
            .flat_map(|r| {
                r.responsible
                    .iter()
                    .chain(std::iter::once(&r.accountable))
                    .chain(r.consulted.iter())
                    .chain(r.informed.iter())
            })
            .cloned()
            .collect();
        parties.sort();
        parties.dedup();
        parties
    }

    /// Sorts items and rules as they are shown: by position, then name.
    pub fn sort(&mut self) {
        self.items
            .sort_by(|a, b| (a.position, &a.name, a.id).cmp(&(b.position, &b.name, b.id)));
        self.rules
            .sort_by(|a, b| (a.position, &a.title, a.id).cmp(&(b.position, &b.title, b.id)));
    }
}

/// The RACI letters a party holds in a row ("A/R", "C"...), or "" when none.
pub fn raci_letters(row: &RaciRow, party: &Party) -> String {
    let mut letters = Vec::new();
    if row.responsible.contains(party) {
        letters.push("R");
    }
    if &row.accountable == party {
        letters.push("A");
    }
    if row.consulted.contains(party) {
        letters.push("C");
    }
    if row.informed.contains(party) {
        letters.push("I");
    }
    letters.join("/")
}

/// A published revision, without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeRevisionMeta {
    pub number: i32,
    pub summary: String,
    pub published_at: DateTime<Utc>,
    pub published_by: String,
}

/// The draft's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct DraftInfo {
    /// Moves on every change of the draft; a publish sends it back (If-Match).
    pub version: i32,
    /// True when the draft differs from the last published revision (or nothing was published).
    pub has_changes: bool,
}

/// A platform's scope: a published revision (current, by number or as of a date) or the draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeView {
    pub platform_id: Uuid,
    pub platform_slug: String,
    pub platform_name: String,
    /// The revision shown; None for the draft, or when nothing was published by the date asked.
    pub revision: Option<ScopeRevisionMeta>,
    /// The newest revision number, for "this is not the current revision" notices.
    pub latest_revision: Option<i32>,
    /// Set when the draft is shown.
    pub draft: Option<DraftInfo>,
    /// The date asked for, when the view is "as of" a date.
    pub as_of: Option<DateTime<Utc>>,
    pub content: ScopeContent,
}

/// Which scope to show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct ScopeQuery {
    /// A published revision number.
    pub revision: Option<i32>,
    /// A date (`2026-03-31`, meaning the end of that day in UTC) or a time (RFC 3339): the
    /// revision in force then.
    pub as_of: Option<String>,
}

/// Reads the `as_of` parameter: a date means the end of that day (UTC).
pub fn parse_as_of(text: &str) -> crate::Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        let t = t.with_timezone(&Utc);
        crate::validate::day("as_of", t.date_naive())?;
        return Ok(t);
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let end = crate::validate::day("as_of", d)?
            .and_hms_milli_opt(23, 59, 59, 999)
            .expect("a valid time of day");
        return Ok(end.and_utc());
    }
    Err(crate::Error::invalid(
        "as_of",
        "must be a date such as 2026-03-31 or a time such as 2026-03-31T12:00:00Z",
    ))
}

/// What a caller sends to publish the draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct PublishInput {
    /// What changed and why, for the teams that acknowledge it.
    pub summary: String,
}

/// One application team's acknowledgement status on a platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct AckStatus {
    pub team_id: Uuid,
    pub team_slug: String,
    pub team_name: String,
    /// The revision the team last acknowledged.
    pub acknowledged_revision: Option<i32>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    /// True when the team acknowledged the newest revision.
    pub up_to_date: bool,
    /// Number of the team's applications placed on the platform.
    pub applications: i64,
}

/// What a team member sends to acknowledge a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct AckInput {
    pub team_id: Uuid,
    pub revision: i32,
}

/// A recorded acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Acknowledgement {
    pub platform_id: Uuid,
    pub team_id: Uuid,
    pub revision: i32,
    pub acknowledged_at: DateTime<Utc>,
    pub acknowledged_by: String,
}

/// A revision a team still has to acknowledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct PendingAck {
    pub platform_id: Uuid,
    pub platform_name: String,
    pub team_id: Uuid,
    pub team_slug: String,
    pub team_name: String,
    pub latest_revision: i32,
    pub acknowledged_revision: Option<i32>,
}

/// A reusable starting point for a platform's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeTemplate {
    /// `builtin` for the template that ships with Demarc, else the saved template's id.
    pub id: String,
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub created_by: String,
    pub content: ScopeContent,
}

/// What a caller sends to save a platform's draft as a template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TemplateInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The platform whose draft becomes the template.
    pub platform_id: Uuid,
}

/// What a caller sends to start a draft from a template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ApplyTemplateInput {
    /// `builtin` or a saved template's id.
    pub template_id: String,
    /// Replace a draft that already has items or rules (otherwise that is refused).
    #[serde(default)]
    pub replace: bool,
}

/// Application audit (is the application built to run securely and stably on Kubernetes?) or
/// provider audit (technical, organisational and legal aspects, usually yearly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    Application,
    Provider,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Application => "application",
            AuditKind::Provider => "provider",
        }
    }

    pub fn parse(s: &str) -> Option<AuditKind> {
        match s {
            "application" => Some(AuditKind::Application),
            "provider" => Some(AuditKind::Provider),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditKind::Application => "Application audit",
            AuditKind::Provider => "Provider audit",
        }
    }
}

/// Where an audit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditStatus {
    Planned,
    Completed,
    Cancelled,
}

impl AuditStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditStatus::Planned => "planned",
            AuditStatus::Completed => "completed",
            AuditStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<AuditStatus> {
        match s {
            "planned" => Some(AuditStatus::Planned),
            "completed" => Some(AuditStatus::Completed),
            "cancelled" => Some(AuditStatus::Cancelled),
            _ => None,
        }
    }
}

/// How a completed audit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Passed,
    PassedWithFindings,
    Failed,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Passed => "passed",
            AuditOutcome::PassedWithFindings => "passed_with_findings",
            AuditOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<AuditOutcome> {
        match s {
            "passed" => Some(AuditOutcome::Passed),
            "passed_with_findings" => Some(AuditOutcome::PassedWithFindings),
            "failed" => Some(AuditOutcome::Failed),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditOutcome::Passed => "Passed",
            AuditOutcome::PassedWithFindings => "Passed with findings",
            AuditOutcome::Failed => "Failed",
        }
    }
}

/// The aspects a provider audit looks at.
pub const AUDIT_ASPECTS: [&str; 3] = ["technical", "organisational", "legal"];

/// A follow-up action from an audit's findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct FollowUpAction {
    pub title: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    #[serde(default)]
    pub done: bool,
}

/// An audit of something outside the fence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeAudit {
    pub id: Uuid,
    pub platform_id: Uuid,
    pub platform_name: String,
    pub kind: AuditKind,
    pub title: String,
    /// The provider audited, or the application's name.
    pub subject: String,
    pub application_id: Option<Uuid>,
    /// For provider audits: technical, organisational, legal.
    pub aspects: Vec<String>,
    pub due_on: NaiveDate,
    pub status: AuditStatus,
    pub completed_on: Option<NaiveDate>,
    pub outcome: Option<AuditOutcome>,
    pub findings: String,
    pub actions: Vec<FollowUpAction>,
    /// When completed, the next one is planned a year after this one's due date.
    pub repeats_yearly: bool,
    /// Planned and past its due date.
    pub overdue: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// What a caller sends to plan or edit an audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeAuditInput {
    pub kind: AuditKind,
    pub title: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub application_id: Option<Uuid>,
    #[serde(default)]
    pub aspects: Vec<String>,
    pub due_on: NaiveDate,
    #[serde(default = "planned")]
    pub status: AuditStatus,
    #[serde(default)]
    pub completed_on: Option<NaiveDate>,
    #[serde(default)]
    pub outcome: Option<AuditOutcome>,
    #[serde(default)]
    pub findings: String,
    #[serde(default)]
    pub actions: Vec<FollowUpAction>,
    #[serde(default)]
    pub repeats_yearly: bool,
}

fn planned() -> AuditStatus {
    AuditStatus::Planned
}

/// Filters for the list of audits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct AuditListQuery {
    pub platform_id: Option<Uuid>,
    /// Only planned audits past their due date.
    pub overdue: bool,
    /// planned, completed or cancelled.
    pub status: Option<String>,
}

fn limit(p: &mut Problems, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        p.add(field, format!("must be at most {max} characters"));
    }
}

fn required(p: &mut Problems, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        p.add(field, "is required");
    } else {
        limit(p, field, value, max);
    }
}

/// Checks an item and resolves its parties against the known teams. The rules: an item names
/// its responsible party; each RACI row names an activity, at least one Responsible and exactly
/// one Accountable party.
pub fn resolve_item(
    input: &ScopeItemInput,
    teams: &[TeamRef],
) -> crate::Result<(ScopeItemInput, Party, Vec<RaciRow>)> {
    let mut input = input.clone();
    input.name = input.name.trim().to_owned();
    input.category = input.category.trim().to_owned();
    input.escalation_contact = input.escalation_contact.trim().to_owned();
    let mut p = Problems::default();
    required(&mut p, "name", &input.name, 120);
    limit(&mut p, "category", &input.category, 60);
    limit(&mut p, "escalation_contact", &input.escalation_contact, 200);
    limit(&mut p, "notes", &input.notes, 4000);
    if input.raci.len() > 50 {
        p.add("raci", "must have at most 50 rows");
    }
    let responsible = Party::parse(&input.responsible, teams);
    if responsible.is_none() {
        p.add(
            "responsible",
            "is required: name the team or party responsible for this item",
        );
    }
    let parse_all = |values: &[String]| -> Vec<Party> {
        let mut parties: Vec<Party> = Vec::with_capacity(values.len());
        for party in values.iter().filter_map(|v| Party::parse(v, teams)) {
            if !parties.contains(&party) {
                parties.push(party);
            }
        }
        parties
    };
    let mut rows = Vec::with_capacity(input.raci.len());
    for (n, row) in input.raci.iter().enumerate() {
        let activity = row.activity.trim().to_owned();
        let field = |name: &str| format!("raci.{n}.{name}");
        required(&mut p, &field("activity"), &activity, 120);
        if input.raci[..n]
            .iter()
            .any(|earlier| earlier.activity.trim().eq_ignore_ascii_case(&activity))
        {
            p.add(
                &field("activity"),
                format!("\"{activity}\" is listed twice: give each activity one row"),
            );
        }
        let responsible = parse_all(&row.responsible);
        let accountable = parse_all(&row.accountable);
        if responsible.is_empty() {
            p.add(
                &field("responsible"),
                format!("\"{activity}\" needs at least one Responsible party"),
            );
        }
        if accountable.len() != 1 {
            p.add(
                &field("accountable"),
                format!(
                    "\"{activity}\" needs exactly one Accountable party (found {})",
                    accountable.len()
                ),
            );
        }
        if let Some(accountable) = accountable.into_iter().next() {
            rows.push(RaciRow {
                activity,
                responsible,
                accountable,
                consulted: parse_all(&row.consulted),
                informed: parse_all(&row.informed),
            });
        }
    }
    p.finish()?;
    let responsible = responsible.expect("checked above");
    Ok((input, responsible, rows))
}

/// Trims a tenant rule and checks it.
pub fn validate_rule(input: &mut TenantRuleInput) -> crate::Result<()> {
    input.title = input.title.trim().to_owned();
    input.reason = input.reason.trim().to_owned();
    let mut p = Problems::default();
    required(&mut p, "title", &input.title, 120);
    required(&mut p, "reason", &input.reason, 2000);
    limit(&mut p, "description", &input.description, 4000);
    limit(&mut p, "exception_process", &input.exception_process, 2000);
    p.finish()
}

/// Checks an audit.
pub fn validate_audit(input: &mut ScopeAuditInput) -> crate::Result<()> {
    input.title = input.title.trim().to_owned();
    input.subject = input.subject.trim().to_owned();
    let mut p = Problems::default();
    required(&mut p, "title", &input.title, 120);
    limit(&mut p, "subject", &input.subject, 200);
    limit(&mut p, "findings", &input.findings, 8000);
    for aspect in &input.aspects {
        if !AUDIT_ASPECTS.contains(&aspect.as_str()) {
            p.add(
                "aspects",
                format!("\"{aspect}\" is not one of technical, organisational, legal"),
            );
        }
    }
    match input.kind {
        AuditKind::Application if input.application_id.is_none() => {
            p.add("application_id", "is required for an application audit");
        }
        AuditKind::Provider if input.subject.is_empty() => {
            p.add("subject", "name the provider that is audited");
        }
        _ => {}
    }
    match input.status {
        AuditStatus::Completed => {
            if input.completed_on.is_none() {
                p.add("completed_on", "is required when the audit is completed");
            }
            if input.outcome.is_none() {
                p.add("outcome", "is required when the audit is completed");
            }
        }
        AuditStatus::Planned | AuditStatus::Cancelled => {
            if input.outcome.is_some() {
                p.add("outcome", "is only recorded for a completed audit");
            }
            input.completed_on = None;
        }
    }
    if input.actions.len() > 100 {
        p.add("actions", "must have at most 100 actions");
    }
    for (n, action) in input.actions.iter_mut().enumerate() {
        action.title = action.title.trim().to_owned();
        action.owner = action.owner.trim().to_owned();
        required(&mut p, &format!("actions.{n}.title"), &action.title, 200);
        limit(&mut p, &format!("actions.{n}.owner"), &action.owner, 120);
    }
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teams() -> Vec<TeamRef> {
        vec![TeamRef {
            id: Uuid::nil(),
            slug: "payments".into(),
            name: "Payments Squad".into(),
        }]
    }

    fn row(activity: &str, r: &[&str], a: &[&str]) -> RaciRowInput {
        RaciRowInput {
            activity: activity.into(),
            responsible: r.iter().map(|s| s.to_string()).collect(),
            accountable: a.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn parties_are_read_from_text() {
        let t = teams();
        assert_eq!(Party::parse("@Platform", &t), Some(Party::PlatformTeam));
        assert_eq!(Party::parse(" @tenants ", &t), Some(Party::Tenants));
        assert!(matches!(
            Party::parse("PAYMENTS", &t),
            Some(Party::Team { .. })
        ));
        assert!(matches!(
            Party::parse("payments squad", &t),
            Some(Party::Team { .. })
        ));
        assert_eq!(
            Party::parse("ACME Cloud", &t),
            Some(Party::External {
                name: "ACME Cloud".into()
            })
        );
        assert_eq!(Party::parse("  ", &t), None);
        for party in [
            Party::PlatformTeam,
            Party::Tenants,
            Party::parse("payments", &t).unwrap(),
        ] {
            assert_eq!(Party::parse(&party.as_input(), &t), Some(party));
        }
    }

    #[test]
    fn an_item_needs_a_responsible_party_and_one_accountable_per_row() {
        let input = ScopeItemInput {
            name: "Backups".into(),
            inside: true,
            responsible: " ".into(),
            raci: vec![
                row("Restore", &["@platform"], &[]),
                row("Backup", &["@platform"], &["@platform", "payments"]),
                row("Verify", &[], &["@platform"]),
                row("restore ", &["@platform"], &["@platform"]),
            ],
            ..Default::default()
        };
        let err = resolve_item(&input, &teams()).unwrap_err().field_errors();
        assert!(err["responsible"].contains("is required"));
        assert!(err["raci.0.accountable"].contains("exactly one Accountable party (found 0)"));
        assert!(err["raci.1.accountable"].contains("(found 2)"));
        assert!(err["raci.2.responsible"].contains("at least one Responsible"));
        assert!(err["raci.3.activity"].contains("listed twice"));
    }

    #[test]
    fn a_valid_item_resolves_its_parties() {
        let input = ScopeItemInput {
            name: " CI code ".into(),
            inside: false,
            responsible: "@tenants".into(),
            raci: vec![RaciRowInput {
                consulted: vec!["payments".into()],
                ..row("Pipeline changes", &["@tenants"], &["payments"])
            }],
            ..Default::default()
        };
        let (input, responsible, rows) = resolve_item(&input, &teams()).unwrap();
        assert_eq!(input.name, "CI code");
        assert_eq!(responsible, Party::Tenants);
        assert_eq!(rows[0].accountable.as_input(), "payments");
        assert_eq!(raci_letters(&rows[0], &rows[0].accountable), "A/C");
    }

    #[test]
    fn as_of_takes_a_date_or_a_time() {
        assert_eq!(
            parse_as_of("2026-03-31").unwrap().to_rfc3339(),
            "2026-03-31T23:59:59.999+00:00"
        );
        assert_eq!(
            parse_as_of("2026-03-31T12:00:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2026-03-31T10:00:00+00:00"
        );
        assert!(parse_as_of("yesterday").unwrap_err().field_errors()["as_of"].contains("date"));
    }

    #[test]
    fn a_completed_audit_needs_an_outcome() {
        let mut input = ScopeAuditInput {
            kind: AuditKind::Provider,
            title: "Yearly provider audit".into(),
            subject: "".into(),
            application_id: None,
            aspects: vec!["technical".into(), "financial".into()],
            due_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            status: AuditStatus::Completed,
            completed_on: None,
            outcome: None,
            findings: String::new(),
            actions: vec![FollowUpAction::default()],
            repeats_yearly: true,
        };
        let err = validate_audit(&mut input).unwrap_err().field_errors();
        for field in [
            "subject",
            "aspects",
            "completed_on",
            "outcome",
            "actions.0.title",
        ] {
            assert!(err.contains_key(field), "{field}: {err:?}");
        }
    }
}
