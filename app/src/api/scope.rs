//! Server functions of the scope pages. Thin like the rest: parse the form, call
//! `domain::scope`, return its answer.
// A server function takes one argument per form field, so the forms with many fields have many.
#![allow(clippy::too_many_arguments)]

use domain::model::Platform;
use domain::scope::{
    AckStatus, Acknowledgement, PendingAck, ScopeAudit, ScopeDiff, ScopeItem, ScopeRevisionMeta,
    ScopeTemplate, ScopeView, TenantRule,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::UiResult;
#[cfg(feature = "ssr")]
use super::ssr;

/// One platform on the scope overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeSummary {
    pub platform: Platform,
    pub latest: Option<ScopeRevisionMeta>,
    /// Teams on the platform that have not acknowledged the newest revision.
    pub unacknowledged: Vec<String>,
    pub draft_has_changes: bool,
}

/// What the scope overview shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeIndex {
    pub platforms: Vec<ScopeSummary>,
    pub pending: Vec<PendingAck>,
    pub can_edit: bool,
}

/// What a platform's scope page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopePageData {
    pub view: ScopeView,
    pub revisions: Vec<ScopeRevisionMeta>,
    pub acknowledgements: Vec<AckStatus>,
    /// The signed-in person's teams on this platform, which they may acknowledge for.
    pub my_teams: Vec<AckStatus>,
    pub can_edit: bool,
}

/// What the draft editor shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftPageData {
    pub view: ScopeView,
    pub changes: ScopeDiff,
    pub templates: Vec<ScopeTemplate>,
    /// Team slugs, offered when typing a party.
    pub teams: Vec<String>,
    pub can_edit: bool,
}

/// One RACI row of the item form; parties comma-separated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RaciField {
    #[serde(default)]
    pub activity: String,
    #[serde(default)]
    pub responsible: String,
    #[serde(default)]
    pub accountable: String,
    #[serde(default)]
    pub consulted: String,
    #[serde(default)]
    pub informed: String,
}

/// One follow-up action of the audit form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionField {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub due_on: String,
    #[serde(default)]
    pub done: Option<String>,
}

/// The audits page: audits, and what the planning form offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditsPageData {
    pub audits: Vec<ScopeAudit>,
    pub platforms: Vec<Platform>,
    /// (id, name) of applications, for application audits.
    pub applications: Vec<(String, String)>,
    pub can_edit: bool,
}

#[cfg(feature = "ssr")]
fn split(parties: &str) -> Vec<String> {
    parties
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(feature = "ssr")]
fn optional_number(field: &str, value: &Option<String>) -> UiResult<Option<i32>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => ssr::number(field, v).map(Some),
    }
}

/// Every platform's current revision and who has not acknowledged it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_scope_index() -> UiResult<ScopeIndex> {
    let (pool, caller) = ssr::context()?;
    let query = domain::model::ListQuery {
        per_page: 200,
        ..Default::default()
    };
    let platforms = domain::platforms::list(&pool, &caller, &query).await?.items;
    let mut out = Vec::with_capacity(platforms.len());
    for platform in platforms {
        let latest = domain::scope::store::revisions(&pool, &caller, platform.id)
            .await?
            .into_iter()
            .next();
        let unacknowledged = domain::scope::store::acknowledgements(&pool, &caller, platform.id)
            .await?
            .into_iter()
            .filter(|a| !a.up_to_date && a.applications > 0)
            .map(|a| a.team_name)
            .collect();
        let draft = domain::scope::store::draft(&pool, &caller, platform.id).await?;
        out.push(ScopeSummary {
            draft_has_changes: draft.draft.is_some_and(|d| d.has_changes),
            platform,
            latest,
            unacknowledged,
        });
    }
    let pending = domain::scope::store::pending_for_teams(&pool, &caller.actor.teams).await?;
    Ok(ScopeIndex {
        platforms: out,
        pending,
        can_edit: caller.actor.may(domain::Action::EditScope),
    })
}

/// A platform's published scope (newest, by revision or as of a date) and its acknowledgements.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_scope(
    id: String,
    revision: Option<String>,
    as_of: Option<String>,
) -> UiResult<ScopePageData> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let query = domain::scope::ScopeQuery {
        revision: optional_number("revision", &revision)?,
        as_of: as_of.filter(|a| !a.trim().is_empty()),
    };
    let view = domain::scope::store::view(&pool, &caller, id, &query).await?;
    let revisions = domain::scope::store::revisions(&pool, &caller, id).await?;
    let acknowledgements = domain::scope::store::acknowledgements(&pool, &caller, id).await?;
    let my_teams = acknowledgements
        .iter()
        .filter(|a| {
            caller
                .actor
                .may(domain::Action::AcknowledgeScope { team: &a.team_slug })
        })
        .cloned()
        .collect();
    Ok(ScopePageData {
        view,
        revisions,
        acknowledgements,
        my_teams,
        can_edit: caller.actor.may(domain::Action::EditScope),
    })
}

/// The draft, what changed in it since the newest revision, and the templates.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_scope_draft(id: String) -> UiResult<DraftPageData> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let view = domain::scope::store::draft(&pool, &caller, id).await?;
    let changes =
        domain::scope::store::diff(&pool, &caller, id, view.latest_revision, None).await?;
    let templates = domain::scope::store::templates(&pool, &caller).await?;
    let query = domain::model::ListQuery {
        per_page: 200,
        ..Default::default()
    };
    let teams = domain::teams::list(&pool, &caller, &query)
        .await?
        .items
        .into_iter()
        .map(|t| t.slug)
        .collect();
    Ok(DraftPageData {
        view,
        changes,
        templates,
        teams,
        can_edit: caller.actor.may(domain::Action::EditScope),
    })
}

/// The difference between two revisions (`to` empty = the draft).
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_scope_diff(
    id: String,
    from: Option<String>,
    to: Option<String>,
) -> UiResult<(ScopeDiff, Vec<ScopeRevisionMeta>)> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let revisions = domain::scope::store::revisions(&pool, &caller, id).await?;
    let diff = domain::scope::store::diff(
        &pool,
        &caller,
        id,
        optional_number("from", &from)?,
        optional_number("to", &to)?,
    )
    .await?;
    Ok((diff, revisions))
}

/// Adds (no id) or edits an item of the draft.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_scope_item(
    platform_id: String,
    id: Option<String>,
    version: Option<String>,
    name: String,
    category: String,
    side: String,
    responsible: String,
    escalation_contact: String,
    notes: String,
    position: String,
    #[server(default)] raci: Vec<RaciField>,
) -> UiResult<ScopeItem> {
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let input = domain::scope::ScopeItemInput {
        name,
        category,
        inside: side == "inside",
        responsible,
        escalation_contact,
        notes,
        position: if position.trim().is_empty() {
            0
        } else {
            ssr::number("position", &position)?
        },
        raci: raci
            .into_iter()
            .filter(|r| {
                ![
                    &r.activity,
                    &r.responsible,
                    &r.accountable,
                    &r.consulted,
                    &r.informed,
                ]
                .iter()
                .all(|v| v.trim().is_empty())
            })
            .map(|r| domain::scope::RaciRowInput {
                activity: r.activity,
                responsible: split(&r.responsible),
                accountable: split(&r.accountable),
                consulted: split(&r.consulted),
                informed: split(&r.informed),
            })
            .collect(),
    };
    let item = match ssr::maybe_uuid("id", &id)? {
        None => domain::scope::store::create_item(&pool, &caller, platform_id, input).await?,
        Some(id) => {
            let version = ssr::number("version", version.as_deref().unwrap_or_default())?;
            domain::scope::store::update_item(&pool, &caller, platform_id, id, version, input)
                .await?
        }
    };
    leptos_axum::redirect(&format!("/platforms/{platform_id}/scope/draft"));
    Ok(item)
}

/// Removes an item from the draft.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn delete_scope_item(platform_id: String, id: String, version: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let (id, version) = (ssr::uuid("id", &id)?, ssr::number("version", &version)?);
    domain::scope::store::delete_item(&pool, &caller, platform_id, id, version).await?;
    leptos_axum::redirect(&format!("/platforms/{platform_id}/scope/draft"));
    Ok(())
}

/// Adds (no id) or edits a tenant rule of the draft.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_tenant_rule(
    platform_id: String,
    id: Option<String>,
    version: Option<String>,
    title: String,
    description: String,
    reason: String,
    exception_process: String,
    position: String,
) -> UiResult<TenantRule> {
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let input = domain::scope::TenantRuleInput {
        title,
        description,
        reason,
        exception_process,
        position: if position.trim().is_empty() {
            0
        } else {
            ssr::number("position", &position)?
        },
    };
    let rule = match ssr::maybe_uuid("id", &id)? {
        None => domain::scope::store::create_rule(&pool, &caller, platform_id, input).await?,
        Some(id) => {
            let version = ssr::number("version", version.as_deref().unwrap_or_default())?;
            domain::scope::store::update_rule(&pool, &caller, platform_id, id, version, input)
                .await?
        }
    };
    leptos_axum::redirect(&format!("/platforms/{platform_id}/scope/draft"));
    Ok(rule)
}

/// Removes a tenant rule from the draft.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn delete_tenant_rule(platform_id: String, id: String, version: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let (id, version) = (ssr::uuid("id", &id)?, ssr::number("version", &version)?);
    domain::scope::store::delete_rule(&pool, &caller, platform_id, id, version).await?;
    leptos_axum::redirect(&format!("/platforms/{platform_id}/scope/draft"));
    Ok(())
}

/// Fills the draft from a template.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn apply_scope_template(
    platform_id: String,
    template_id: String,
    replace: Option<String>,
) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let input = domain::scope::ApplyTemplateInput {
        template_id,
        replace: replace.is_some_and(|v| v == "on" || v == "true"),
    };
    domain::scope::store::apply_template(&pool, &caller, platform_id, input).await?;
    leptos_axum::redirect(&format!("/platforms/{platform_id}/scope/draft"));
    Ok(())
}

/// Publishes the draft as the next revision.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn publish_scope(
    platform_id: String,
    draft_version: String,
    summary: String,
) -> UiResult<ScopeRevisionMeta> {
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let version = ssr::number("draft_version", &draft_version)?;
    let input = domain::scope::PublishInput { summary };
    let meta = domain::scope::store::publish(&pool, &caller, platform_id, version, input).await?;
    leptos_axum::redirect(&format!("/platforms/{platform_id}/scope"));
    Ok(meta)
}

/// Saves the draft as a template.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_scope_template(
    platform_id: String,
    name: String,
    description: String,
) -> UiResult<ScopeTemplate> {
    let (pool, caller) = ssr::context()?;
    let input = domain::scope::TemplateInput {
        name,
        description,
        platform_id: ssr::uuid("platform_id", &platform_id)?,
    };
    Ok(domain::scope::store::save_template(&pool, &caller, input).await?)
}

/// Acknowledges a revision for one of the caller's teams.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn acknowledge_scope(
    platform_id: String,
    team_id: String,
    revision: String,
) -> UiResult<Acknowledgement> {
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let input = domain::scope::AckInput {
        team_id: ssr::uuid("team_id", &team_id)?,
        revision: ssr::number("revision", &revision)?,
    };
    let ack = domain::scope::store::acknowledge(&pool, &caller, platform_id, input).await?;
    leptos_axum::redirect(&format!("/platforms/{platform_id}/scope"));
    Ok(ack)
}

/// Audits of what is outside the fences, with what the planning form offers.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_scope_audits(
    platform_id: Option<String>,
    #[server(default)] overdue: bool,
) -> UiResult<AuditsPageData> {
    let (pool, caller) = ssr::context()?;
    let query = domain::scope::AuditListQuery {
        platform_id: ssr::maybe_uuid("platform_id", &platform_id)?,
        overdue,
        status: None,
    };
    let audits = domain::scope::audits::list(&pool, &caller, &query).await?;
    let list = domain::model::ListQuery {
        per_page: 200,
        ..Default::default()
    };
    let platforms = domain::platforms::list(&pool, &caller, &list).await?.items;
    let applications = domain::applications::list(
        &pool,
        &caller,
        &list,
        &domain::applications::Filter::default(),
    )
    .await?
    .items
    .into_iter()
    .map(|a| (a.id.to_string(), a.name))
    .collect();
    Ok(AuditsPageData {
        audits,
        platforms,
        applications,
        can_edit: caller.actor.may(domain::Action::EditScope),
    })
}

/// One audit.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_scope_audit(id: String) -> UiResult<(ScopeAudit, bool)> {
    let (pool, caller) = ssr::context()?;
    let audit = domain::scope::audits::get(&pool, &caller, ssr::uuid("id", &id)?).await?;
    Ok((audit, caller.actor.may(domain::Action::EditScope)))
}

/// Plans (no id) or edits an audit.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_scope_audit(
    id: Option<String>,
    version: Option<String>,
    platform_id: Option<String>,
    kind: String,
    title: String,
    subject: String,
    application_id: Option<String>,
    #[server(default)] aspects: Vec<String>,
    due_on: String,
    status: Option<String>,
    completed_on: Option<String>,
    outcome: Option<String>,
    #[server(default)] findings: String,
    #[server(default)] repeats_yearly: Option<String>,
    #[server(default)] actions: Vec<ActionField>,
) -> UiResult<ScopeAudit> {
    use domain::scope::{AuditKind, AuditOutcome, AuditStatus};
    let (pool, caller) = ssr::context()?;
    let kind = AuditKind::parse(&kind)
        .ok_or_else(|| domain::Error::invalid("kind", "choose application or provider"))?;
    let status = AuditStatus::parse(status.as_deref().unwrap_or("planned"))
        .ok_or_else(|| domain::Error::invalid("status", "is not a known status"))?;
    let outcome = match outcome.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(o) => Some(
            AuditOutcome::parse(o)
                .ok_or_else(|| domain::Error::invalid("outcome", "is not a known outcome"))?,
        ),
    };
    let mut follow_ups = Vec::new();
    for (n, a) in actions.into_iter().enumerate() {
        if a.title.trim().is_empty() && a.owner.trim().is_empty() && a.due_on.trim().is_empty() {
            continue;
        }
        follow_ups.push(domain::scope::FollowUpAction {
            title: a.title,
            owner: a.owner,
            due_on: ssr::optional_date(&format!("actions.{n}.due_on"), &a.due_on)?,
            done: a.done.is_some_and(|v| v == "on" || v == "true"),
        });
    }
    let input = domain::scope::ScopeAuditInput {
        kind,
        title,
        subject,
        application_id: ssr::maybe_uuid("application_id", &application_id)?,
        aspects,
        due_on: ssr::date("due_on", &due_on)?,
        status,
        completed_on: ssr::optional_date("completed_on", completed_on.as_deref().unwrap_or(""))?,
        outcome,
        findings,
        actions: follow_ups,
        repeats_yearly: repeats_yearly.is_some_and(|v| v == "on" || v == "true"),
    };
    let audit = match ssr::maybe_uuid("id", &id)? {
        None => {
            let platform_id = ssr::maybe_uuid("platform_id", &platform_id)?
                .ok_or_else(|| domain::Error::invalid("platform_id", "choose a platform"))?;
            domain::scope::audits::create(&pool, &caller, platform_id, input).await?
        }
        Some(id) => {
            let version = ssr::number("version", version.as_deref().unwrap_or_default())?;
            domain::scope::audits::update(&pool, &caller, id, version, input).await?
        }
    };
    leptos_axum::redirect(&format!("/scope/audits/{}", audit.id));
    Ok(audit)
}
