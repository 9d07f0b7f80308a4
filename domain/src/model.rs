//! The catalogue's model: plain serde types shared by the UI, the REST API and the store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "server")]
use utoipa::{IntoParams, ToSchema};

/// A team that owns applications (an application team) or runs the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Team {
    pub id: Uuid,
    /// Short unique name, also the suffix of the team's group in the identity provider.
    pub slug: String,
    pub name: String,
    pub description: String,
    /// Where to reach the team (chat channel, e-mail, on-call alias).
    pub contact: String,
    pub archived_at: Option<DateTime<Utc>>,
    /// Increases on every change; send it back to update (optimistic concurrency).
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller sends to create or edit a team.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TeamInput {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub contact: String,
}

/// A Kubernetes platform offering run by the platform team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Platform {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller sends to create or edit a platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct PlatformInput {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// An environment of a platform (staging, production...). Environments are ordered: a lower
/// position receives changes first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Environment {
    pub id: Uuid,
    pub platform_id: Uuid,
    pub slug: String,
    pub name: String,
    pub position: i32,
    pub is_production: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller sends to create or edit an environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct EnvironmentInput {
    pub slug: String,
    pub name: String,
    /// Order within the platform: 0 is updated first.
    pub position: i32,
    #[serde(default)]
    pub is_production: bool,
}

/// Where an application runs in one environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Placement {
    pub environment_id: Uuid,
    pub namespace: String,
}

/// An application owned by a team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Application {
    pub id: Uuid,
    pub team_id: Uuid,
    /// The owning team's slug, for display and policy.
    pub team_slug: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// The namespaces it runs in, per environment.
    pub placements: Vec<Placement>,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller sends to create or edit an application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ApplicationInput {
    pub team_id: Uuid,
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub placements: Vec<Placement>,
}

/// Paging and filtering of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct ListQuery {
    /// Page number, from 1.
    pub page: u32,
    /// Items per page, 1 to 200.
    pub per_page: u32,
    /// Include archived items.
    pub include_archived: bool,
    /// Only items whose name or slug contains this text.
    pub q: Option<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            page: 1,
            per_page: 50,
            include_archived: false,
            q: None,
        }
    }
}

impl ListQuery {
    /// Page size and offset, clamped to sane bounds.
    pub fn limit_offset(&self) -> (i64, i64) {
        let per_page = self.per_page.clamp(1, 200) as i64;
        let page = self.page.max(1) as i64;
        (per_page, (page - 1) * per_page)
    }

    /// The search text as a SQL LIKE pattern, or None.
    pub fn pattern(&self) -> Option<String> {
        self.q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| {
                format!(
                    "%{}%",
                    q.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                )
            })
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    /// Number of items over all pages.
    pub total: i64,
}

impl<T> Page<T> {
    /// How many pages the items fill (at least one, for the "page 1 of 1" of an empty list).
    pub fn pages(&self) -> u32 {
        let per_page = i64::from(self.per_page.max(1));
        ((self.total + per_page - 1) / per_page).max(1) as u32
    }
}

/// One notification to one of a team's channels (a webhook or an e-mail address) and how its
/// delivery went. Its id is the job's: the `X-Demarc-Delivery` header of a webhook call and the
/// `Message-ID` of an e-mail carry it, so a receiver's log and this one can be matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Delivery {
    pub id: i64,
    /// `webhook` or `email`.
    pub channel: String,
    /// The webhook's host or a hint of the address (never the secret URL or the whole address).
    pub target: String,
    /// What it said: the event and its subject, or the e-mail's subject line.
    pub about: String,
    pub state: DeliveryState,
    pub queued_at: DateTime<Utc>,
    /// When the next attempt is due (pending or retrying).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<DeliveryAttempt>,
}

/// Paging of a team's delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct DeliveryQuery {
    /// Page number, from 1.
    pub page: u32,
    /// Deliveries per page, 1 to 100 (default 20).
    pub per_page: u32,
}

impl Default for DeliveryQuery {
    fn default() -> Self {
        DeliveryQuery {
            page: 1,
            per_page: 20,
        }
    }
}

impl DeliveryQuery {
    /// Page size and offset, clamped to sane bounds.
    pub fn limit_offset(&self) -> (i64, i64) {
        let per_page = i64::from(self.per_page.clamp(1, 100));
        (per_page, i64::from(self.page.max(1) - 1) * per_page)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not tried yet.
    Pending,
    /// An attempt failed; another is due.
    Retrying,
    /// The receiver accepted it.
    Delivered,
    /// Every attempt failed; Demarc gave up.
    Failed,
    /// Not sent: the channel was removed before its turn came.
    Dropped,
}

impl DeliveryState {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Pending => "Pending",
            DeliveryState::Retrying => "Retrying",
            DeliveryState::Delivered => "Delivered",
            DeliveryState::Failed => "Failed",
            DeliveryState::Dropped => "Dropped",
        }
    }
}

/// One try at delivering, as recorded when it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct DeliveryAttempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// The receiver's HTTP status (webhooks).
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

/// One entry of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// user, token or system.
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_name: String,
    /// create, update, archive, restore, login, revoke...
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// The request that made the change.
    pub request_id: Option<String>,
}

/// The values the audit log's filters can take: what has been recorded so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFacets {
    pub entity_types: Vec<String>,
    pub actions: Vec<String>,
}

/// Filters for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Matches the actor's name or id.
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Return entries older than this id (for paging backwards).
    pub before_id: Option<i64>,
    /// 1 to 500, default 100.
    pub limit: Option<u32>,
}

/// An API token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    /// read or write.
    pub scope: String,
    /// The role the token acts with.
    pub role: String,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a caller sends to create an API token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ApiTokenInput {
    pub name: String,
    /// read or write.
    pub scope: String,
    /// Days until it expires, 1 to 365.
    pub expires_in_days: i64,
}

/// A freshly created token: the secret is shown this once and never again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CreatedApiToken {
    pub token: ApiToken,
    pub secret: String,
}

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Dashboard {
    pub teams: i64,
    pub platforms: i64,
    pub environments: i64,
    pub applications: i64,
    /// Applications without any namespace in a production environment.
    pub applications_without_production: i64,
    pub recent_changes: Vec<AuditEntry>,
    /// Planned audits of what is outside a fence, past their due date.
    pub overdue_audits: i64,
    /// The first few of them, oldest due first.
    pub overdue_audit_list: Vec<crate::scope::ScopeAudit>,
    /// For application-team members: scope revisions their teams have not acknowledged.
    pub pending_acknowledgements: Vec<crate::scope::PendingAck>,
}
