//! The go-live model: templates, reviews and their items, waivers, sign-off, verification runs,
//! cluster connections and the board. Plain serde types shared by the UI, REST and the store,
//! and the pure rules that decide an item's effective status and whether a review can be signed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use checks::{CheckId, CheckResult, Evidence, ObjectRef, Outcome, Params, SourceInfo};

#[cfg(feature = "server")]
use utoipa::ToSchema;

/// One item of a checklist template: a question with guidance, answered by people (manual) or by
/// the cluster (automatic, when `check` is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ItemDef {
    /// Stable key within the template (`replicas`, `load-test`): lowercase, digits and dashes.
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub why: String,
    #[serde(default)]
    pub how_to_check: String,
    #[serde(default)]
    pub desired: String,
    #[serde(default)]
    pub how_to_fix: String,
    /// A required item must pass (or be waived, or not apply) before sign-off.
    #[serde(default = "yes")]
    pub required: bool,
    /// Environment slugs the item applies to; `@production` and `@non-production` select by
    /// kind; empty means every environment.
    #[serde(default)]
    pub environments: Vec<String>,
    /// The automatic check that answers the item; None for manual (attested) items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckId>,
    #[serde(default)]
    pub params: Params,
}

fn yes() -> bool {
    true
}

impl ItemDef {
    pub fn is_automatic(&self) -> bool {
        self.check.is_some()
    }

    /// Whether the item applies to an environment (by slug and production flag).
    pub fn applies_to(&self, environment_slug: &str, is_production: bool) -> bool {
        self.environments.is_empty()
            || self.environments.iter().any(|e| match e.as_str() {
                "@production" => is_production,
                "@non-production" => !is_production,
                slug => slug == environment_slug,
            })
    }
}

/// A saved version of a platform's checklist template. Versions never change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ChecklistTemplate {
    pub platform_id: Uuid,
    /// 0 when the platform has not saved a template yet (the default is shown).
    pub version: i32,
    pub items: Vec<ItemDef>,
    pub note: String,
    pub created_by: String,
    pub created_at: Option<DateTime<Utc>>,
}

/// What a caller sends to save a new template version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TemplateInput {
    pub items: Vec<ItemDef>,
    #[serde(default)]
    pub note: String,
    /// The version the caller edited (0 for the first save): a newer one is a conflict.
    pub base_version: i32,
}

/// An item's status as people see it (a waiver's effect included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Pending,
    Passed,
    Failed,
    NotApplicable,
    Waived,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Pending => "pending",
            ItemStatus::Passed => "passed",
            ItemStatus::Failed => "failed",
            ItemStatus::NotApplicable => "not_applicable",
            ItemStatus::Waived => "waived",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Pending => "Pending",
            ItemStatus::Passed => "Passed",
            ItemStatus::Failed => "Failed",
            ItemStatus::NotApplicable => "Not applicable",
            ItemStatus::Waived => "Waived",
        }
    }

    /// The statuses a person may set (waived comes from a waiver).
    pub fn parse_settable(s: &str) -> Option<ItemStatus> {
        match s {
            "pending" => Some(ItemStatus::Pending),
            "passed" => Some(ItemStatus::Passed),
            "failed" => Some(ItemStatus::Failed),
            "not_applicable" => Some(ItemStatus::NotApplicable),
            _ => None,
        }
    }

    /// Counts as done for sign-off.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            ItemStatus::Passed | ItemStatus::NotApplicable | ItemStatus::Waived
        )
    }
}

/// A waiver of one item: reason, approver (platform team) and expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Waiver {
    pub id: Uuid,
    pub item_key: String,
    pub reason: String,
    pub approved_by: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

impl Waiver {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }

    pub fn has_expired(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at <= now
    }

    /// Whether it runs out within [`WAIVER_WARNING_DAYS`] (the time its team is warned).
    pub fn runs_out_soon(&self, now: DateTime<Utc>) -> bool {
        self.is_active(now) && self.expires_at <= now + chrono::Duration::days(WAIVER_WARNING_DAYS)
    }
}

/// How many days before a waiver on an approved review runs out its team is warned.
pub const WAIVER_WARNING_DAYS: i64 = 7;

/// What a person attested for a manual item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Attestation {
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub link: String,
    #[serde(default)]
    pub file_id: Option<Uuid>,
    #[serde(default)]
    pub file_name: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One item of a review and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ReviewItem {
    pub key: String,
    pub definition: ItemDef,
    /// The status with waivers applied: what counts.
    pub status: ItemStatus,
    /// The status people or the cluster set, before waivers.
    pub recorded_status: ItemStatus,
    /// Why the status is what it is (not applicable reason, expired waiver, note).
    pub reason: String,
    pub attestation: Option<Attestation>,
    /// Automatic items: the latest verification's combined outcome and message.
    pub outcome: Option<Outcome>,
    pub message: String,
    pub results: Vec<CheckResult>,
    pub checked_at: Option<DateTime<Utc>>,
    pub run_id: Option<Uuid>,
    /// Where `results` were read: the cluster (environment and API server URL) with its server
    /// version and the time the objects were read, or the upload or CI report. Kept in the
    /// evidence frozen at sign-off, so each kept result says which cluster and when.
    #[serde(default)]
    pub source: Option<checks::SourceInfo>,
    /// The newest waiver that is not revoked (active or expired).
    pub waiver: Option<Waiver>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// The effective status of an item: an active waiver covers a pending or failed item; an
/// expired one turns it back to failing.
pub fn effective_status(
    recorded: ItemStatus,
    waiver: Option<&Waiver>,
    now: DateTime<Utc>,
) -> (ItemStatus, Option<String>) {
    match waiver {
        Some(w) if w.is_active(now) && !recorded.is_done() => (ItemStatus::Waived, None),
        Some(w) if w.has_expired(now) && !recorded.is_done() => (
            ItemStatus::Failed,
            Some(format!(
                "The waiver expired on {}.",
                w.expires_at.format("%Y-%m-%d %H:%M UTC")
            )),
        ),
        _ => (recorded, None),
    }
}

/// Which side signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignoffSide {
    /// A member of the application's team.
    Team,
    /// A platform engineer.
    Platform,
}

impl SignoffSide {
    pub fn as_str(self) -> &'static str {
        match self {
            SignoffSide::Team => "team",
            SignoffSide::Platform => "platform",
        }
    }

    pub fn parse(s: &str) -> Option<SignoffSide> {
        match s {
            "team" => Some(SignoffSide::Team),
            "platform" => Some(SignoffSide::Platform),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Signoff {
    pub side: SignoffSide,
    pub signed_by: String,
    pub signed_at: DateTime<Utc>,
    /// False when the items' answers changed after this signature: it no longer counts, and
    /// its side signs again (the next sign-off lets it lapse).
    #[serde(default = "signed_on_these_answers")]
    pub current: bool,
}

fn signed_on_these_answers() -> bool {
    true
}

/// A fingerprint of what a sign-off covers: each item's effective status, reason, evidence and
/// waiver. Results that change without changing an answer (a new run, the same verdicts) do not
/// change it.
#[cfg(feature = "server")]
pub fn answers_of(items: &[ReviewItem]) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for i in items {
        let evidence = i
            .attestation
            .as_ref()
            .map(|a| (&a.note, &a.link, a.file_id));
        let waiver = (i.status == ItemStatus::Waived)
            .then(|| i.waiver.as_ref().map(|w| w.id))
            .flatten();
        let line = serde_json::json!([i.key, i.status.as_str(), i.reason, evidence, waiver]);
        hash.update(line.to_string().as_bytes());
        hash.update(b"\n");
    }
    format!("{:x}", hash.finalize())
}

/// The state of a review on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GoLiveState {
    /// No review yet.
    NotStarted,
    /// Required items still pending.
    InProgress,
    /// A required item fails.
    Blocked,
    /// Every required item is done: waiting for sign-off.
    ReadyForSignoff,
    /// Signed off by both sides.
    Approved,
    /// Approved, and a later verification found a regression.
    Drifted,
}

impl GoLiveState {
    pub fn label(self) -> &'static str {
        match self {
            GoLiveState::NotStarted => "Not started",
            GoLiveState::InProgress => "In progress",
            GoLiveState::Blocked => "Blocked",
            GoLiveState::ReadyForSignoff => "Ready for sign-off",
            GoLiveState::Approved => "Approved for go-live",
            GoLiveState::Drifted => "Drifted",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GoLiveState::NotStarted => "not_started",
            GoLiveState::InProgress => "in_progress",
            GoLiveState::Blocked => "blocked",
            GoLiveState::ReadyForSignoff => "ready_for_signoff",
            GoLiveState::Approved => "approved",
            GoLiveState::Drifted => "drifted",
        }
    }
}

/// How far a review is: required items done of required items, and what blocks it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Progress {
    pub required: usize,
    pub required_done: usize,
    pub total: usize,
    pub done: usize,
    /// Titles of required items that fail (blockers) or are still pending.
    pub failing: Vec<String>,
    pub pending: Vec<String>,
    /// Titles of required automatic items the latest verification could not judge (a kind it
    /// may not read, a cluster that stopped answering): their status is older than that run.
    #[serde(default)]
    pub unverified: Vec<String>,
}

impl Progress {
    pub fn of(items: &[ReviewItem]) -> Progress {
        let mut p = Progress {
            total: items.len(),
            ..Progress::default()
        };
        for item in items {
            let done = item.status.is_done();
            p.done += usize::from(done);
            if item.definition.required {
                p.required += 1;
                p.required_done += usize::from(done);
                match item.status {
                    ItemStatus::Failed => p.failing.push(item.definition.title.clone()),
                    ItemStatus::Pending => p.pending.push(item.definition.title.clone()),
                    _ => {}
                }
                // A waived item is decided whatever the cluster says; a failing one is listed
                // again, since its failure is older than the last run.
                if item.outcome == Some(Outcome::Error) && item.status != ItemStatus::Waived {
                    p.unverified.push(item.definition.title.clone());
                }
            }
        }
        p
    }

    pub fn ready(&self) -> bool {
        self.required_done == self.required
    }

    pub fn percent(&self) -> u32 {
        (self.required_done * 100)
            .checked_div(self.required)
            .map_or(100, |p| p as u32)
    }
}

/// Names of what a review belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ReviewContext {
    pub application_id: Uuid,
    pub application_slug: String,
    pub application_name: String,
    pub team_slug: String,
    pub team_name: String,
    pub platform_id: Uuid,
    pub platform_name: String,
    pub environment_id: Uuid,
    pub environment_slug: String,
    pub environment_name: String,
    pub is_production: bool,
    pub namespaces: Vec<String>,
}

/// A drift: a required item that passed and fails in a later verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct DriftEvent {
    pub id: Uuid,
    pub review_id: Uuid,
    /// The verification run that saw the regression, or none when a waiver ran out.
    pub run_id: Option<Uuid>,
    /// The waiver whose expiry turned the item back to failing.
    pub waiver_id: Option<Uuid>,
    pub item_key: String,
    pub previous: String,
    pub current: String,
    pub message: String,
    pub detected_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// What needs attention after go-live, for the dashboard: approved applications whose checks
/// fail again (open drift), and waivers on approved reviews that run out within
/// [`WAIVER_WARNING_DAYS`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GoLiveAttention {
    pub drifted: Vec<AttentionRow>,
    pub waivers_ending: Vec<AttentionRow>,
}

/// One review that needs attention, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentionRow {
    pub review_id: Uuid,
    /// The slug of the application's team.
    pub team: String,
    pub application: String,
    pub environment: String,
    pub platform: String,
    /// The titles of the open drift's items, or of the item the waiver covers.
    pub items: Vec<String>,
    /// When the drift was first seen, or when the waiver runs out.
    pub at: DateTime<Utc>,
}

/// A go-live review with its items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Review {
    pub id: Uuid,
    pub context: ReviewContext,
    pub template_version: i32,
    /// open, approved or withdrawn.
    pub state: String,
    pub go_live: GoLiveState,
    pub approved_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub version: i32,
    pub items: Vec<ReviewItem>,
    pub signoffs: Vec<Signoff>,
    pub progress: Progress,
    pub drift: Vec<DriftEvent>,
    /// True when the evidence frozen at sign-off can be viewed.
    pub has_frozen: bool,
}

impl Review {
    /// The board state from the review's parts.
    pub fn state_of(state: &str, progress: &Progress, open_drift: bool) -> GoLiveState {
        match state {
            // After go-live a required item that fails again (a regression, or a waiver that
            // expired) is drift, whether or not a verification has seen it yet.
            "approved" if open_drift || !progress.failing.is_empty() => GoLiveState::Drifted,
            "approved" => GoLiveState::Approved,
            _ if !progress.failing.is_empty() => GoLiveState::Blocked,
            _ if progress.ready() => GoLiveState::ReadyForSignoff,
            _ => GoLiveState::InProgress,
        }
    }
}

/// What the evidence looked like at sign-off: stored once, shown as is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct FrozenReview {
    pub approved_at: DateTime<Utc>,
    pub items: Vec<ReviewItem>,
    pub signoffs: Vec<Signoff>,
}

/// A person's answer to a manual item (or a not-applicable decision on any item).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct AttestInput {
    /// passed, failed, not_applicable or pending.
    pub status: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub link: String,
    /// An evidence file uploaded before (see the files endpoint).
    #[serde(default)]
    pub file_id: Option<Uuid>,
    /// The item version the caller saw.
    pub version: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct WaiverInput {
    pub reason: String,
    /// When the waiver ends (at most a year ahead).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A row of the go-live board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct BoardRow {
    pub application_id: Uuid,
    pub application_slug: String,
    pub application_name: String,
    pub team_slug: String,
    pub team_name: String,
    pub environment_id: Uuid,
    pub environment_name: String,
    pub is_production: bool,
    pub review_id: Option<Uuid>,
    pub state: GoLiveState,
    pub progress: Progress,
    pub approved_at: Option<DateTime<Utc>>,
    pub last_checked_at: Option<DateTime<Utc>>,
}

/// Progress of a verification run, for the live view.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RunProgress {
    #[serde(default)]
    pub step: String,
    #[serde(default)]
    pub done: u32,
    #[serde(default)]
    pub total: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RunSummary {
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
    pub not_applicable: u32,
    pub error: u32,
}

impl RunSummary {
    pub fn of(results: &[CheckResult]) -> RunSummary {
        let mut s = RunSummary::default();
        for r in results {
            match r.outcome {
                Outcome::Pass => s.pass += 1,
                Outcome::Warn => s.warn += 1,
                Outcome::Fail => s.fail += 1,
                Outcome::NotApplicable => s.not_applicable += 1,
                Outcome::Error => s.error += 1,
            }
        }
        s
    }
}

/// One verification of a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct VerificationRun {
    pub id: Uuid,
    pub review_id: Uuid,
    /// manual, api, schedule, upload or ci.
    pub trigger: String,
    /// queued, running, succeeded or failed.
    pub state: String,
    pub progress: RunProgress,
    pub source: Option<checks::SourceInfo>,
    pub summary: Option<RunSummary>,
    pub error: Option<String>,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Whether the run's results set the checklist's items. An upload or CI report of an
    /// environment Demarc reads live is kept as evidence only: the live cluster decides.
    pub applied: bool,
}

impl VerificationRun {
    pub fn is_finished(&self) -> bool {
        matches!(self.state.as_str(), "succeeded" | "failed")
    }
}

/// How Demarc reaches an environment's cluster, without the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ClusterConnection {
    pub environment_id: Uuid,
    /// in_cluster, kubeconfig or token.
    pub mode: String,
    pub server_url: String,
    pub context: String,
    pub has_ca: bool,
    /// A token or kubeconfig is stored (it is never shown again).
    pub has_secret: bool,
    pub verify_every_minutes: Option<i32>,
    pub last_tested_at: Option<DateTime<Utc>>,
    pub last_server_version: Option<String>,
    pub last_missing: Vec<String>,
    pub last_test_error: Option<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// What a caller sends to set a connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ConnectionInput {
    /// in_cluster, kubeconfig or token.
    pub mode: String,
    /// API server URL (token mode).
    #[serde(default)]
    pub server_url: String,
    /// kubeconfig context (kubeconfig mode; empty: the current context).
    #[serde(default)]
    pub context: String,
    /// PEM CA bundle of the API server (token mode; empty: the system roots).
    #[serde(default)]
    pub ca_pem: String,
    /// The bearer token (token mode) or the kubeconfig (kubeconfig mode). Empty keeps the stored
    /// one, except in token mode when `server_url` or `ca_pem` changes: a stored token is only
    /// sent to the server it was saved for.
    #[serde(default)]
    pub secret: String,
    /// Re-verify every review of the environment this often (minutes); None turns it off.
    #[serde(default)]
    pub verify_every_minutes: Option<i32>,
    /// The version edited (0 for a new connection).
    #[serde(default)]
    pub version: i32,
}

/// The answer of "test connection".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ConnectionTest {
    pub ok: bool,
    pub server_version: Option<String>,
    /// Permissions the credentials lack, by name ("list pods"), then those whose access review
    /// failed, with the reason ("get pods: could not be checked: <reason>").
    pub missing: Vec<String>,
    pub error: Option<String>,
}

/// A team's notification webhook (the URL is never shown again; `hint` is its host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TeamWebhook {
    pub id: Uuid,
    pub team_id: Uuid,
    /// json or slack.
    pub format: String,
    pub hint: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct WebhookInput {
    pub url: String,
    /// json (default) or slack.
    #[serde(default)]
    pub format: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn waiver(expires: DateTime<Utc>, revoked: bool) -> Waiver {
        Waiver {
            id: Uuid::nil(),
            item_key: "replicas".into(),
            reason: "one replica until the cache is shared".into(),
            approved_by: "pat".into(),
            expires_at: expires,
            created_at: expires - chrono::Duration::days(30),
            revoked_at: revoked.then_some(expires),
            revoked_by: revoked.then(|| "pat".into()),
        }
    }

    #[test]
    fn a_waiver_covers_a_failing_item_until_it_expires() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let active = waiver(now + chrono::Duration::days(1), false);
        assert_eq!(
            effective_status(ItemStatus::Failed, Some(&active), now).0,
            ItemStatus::Waived
        );
        assert_eq!(
            effective_status(ItemStatus::Passed, Some(&active), now).0,
            ItemStatus::Passed
        );
        let (status, why) = effective_status(
            ItemStatus::Failed,
            Some(&active),
            now + chrono::Duration::days(2),
        );
        assert_eq!(status, ItemStatus::Failed);
        assert!(why.unwrap().contains("expired on 2026-11-27"));
        let revoked = waiver(now + chrono::Duration::days(1), true);
        assert_eq!(
            effective_status(ItemStatus::Pending, Some(&revoked), now).0,
            ItemStatus::Pending
        );
    }

    #[test]
    fn items_apply_to_environments_by_slug_or_kind() {
        let mut def = ItemDef {
            key: "dr".into(),
            title: "DR".into(),
            why: String::new(),
            how_to_check: String::new(),
            desired: String::new(),
            how_to_fix: String::new(),
            required: true,
            environments: vec![],
            check: None,
            params: Params::default(),
        };
        assert!(def.applies_to("staging", false));
        def.environments = vec!["@production".into()];
        assert!(def.applies_to("prod", true));
        assert!(!def.applies_to("staging", false));
        def.environments = vec!["staging".into()];
        assert!(def.applies_to("staging", false));
    }
}
