//! REST handlers for platform scope: the draft's items and tenant rules, templates, published
//! revisions, the diff, acknowledgements, the CSV export and the audits of what is outside the
//! fence. Each parses, calls the domain, maps the result: no rules here.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::scope::{
    AckInput, AckStatus, Acknowledgement, ApplyTemplateInput, AuditListQuery, PublishInput,
    ScopeAudit, ScopeAuditInput, ScopeDiff, ScopeItem, ScopeItemInput, ScopeQuery,
    ScopeRevisionMeta, ScopeTemplate, ScopeView, TemplateInput, TenantRule, TenantRuleInput,
    audits, export, store,
};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiCaller, ApiError, ApiPath, ApiQuery, ErrorBody, JsonBody};
use super::{IfMatch, Tagged};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// The draft's version: the ETag of the draft, sent back as If-Match to publish it.
fn draft_version(view: &ScopeView) -> i32 {
    view.draft.as_ref().map(|d| d.version).unwrap_or(0)
}

// ---- the scope as published, and the draft ----------------------------------------------------

/// Read a platform's published scope: the newest revision, a revision by number, or the one in
/// force at `as_of`. Before anything is published (or before `as_of`), `revision` is null and the
/// content is empty.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/scope", tag = "scope",
    params(("id" = Uuid, Path), ScopeQuery),
    responses((status = 200, body = ScopeView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn get_scope(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Json<ScopeView>> {
    Ok(Json(store::view(&s.pool, &c, id, &q).await?))
}

/// Read a platform's draft. Its ETag is the draft's version, which publishing needs as If-Match.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/scope/draft", tag = "scope",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ScopeView, headers(("ETag" = String))),
        (status = 404, body = ErrorBody)))]
pub async fn get_draft(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<ScopeView>> {
    let view = store::draft(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, draft_version(&view), view))
}

// ---- draft items -----------------------------------------------------------------------------

/// Add an item to the draft. Parties are written as `@platform`, `@tenants`, a team's slug or
/// name, or an external party's name; every RACI row needs exactly one accountable party.
#[utoipa::path(post, path = "/api/v1/platforms/{id}/scope/items", tag = "scope",
    params(("id" = Uuid, Path)), request_body = ScopeItemInput,
    responses((status = 201, body = ScopeItem, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_item(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<ScopeItemInput>,
) -> Result<Tagged<ScopeItem>> {
    let item = store::create_item(&s.pool, &c, id, input).await?;
    Ok(Tagged(StatusCode::CREATED, item.version, item))
}

/// Replace a draft item's fields. Needs `If-Match` with the item's ETag.
#[utoipa::path(put, path = "/api/v1/platforms/{id}/scope/items/{item_id}", tag = "scope",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body = ScopeItemInput,
    responses((status = 200, body = ScopeItem, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn update_item(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath((id, item_id)): ApiPath<(Uuid, Uuid)>,
    IfMatch(v): IfMatch,
    JsonBody(input): JsonBody<ScopeItemInput>,
) -> Result<Tagged<ScopeItem>> {
    let item = store::update_item(&s.pool, &c, id, item_id, v, input).await?;
    Ok(Tagged(StatusCode::OK, item.version, item))
}

/// Remove an item from the draft (published revisions keep it). Needs `If-Match`.
#[utoipa::path(delete, path = "/api/v1/platforms/{id}/scope/items/{item_id}", tag = "scope",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204, description = "Removed from the draft"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn delete_item(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath((id, item_id)): ApiPath<(Uuid, Uuid)>,
    IfMatch(v): IfMatch,
) -> Result<StatusCode> {
    store::delete_item(&s.pool, &c, id, item_id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- draft tenant rules ----------------------------------------------------------------------

/// Add a tenant rule to the draft: a rule application teams follow, why, and how to ask for an
/// exception.
#[utoipa::path(post, path = "/api/v1/platforms/{id}/scope/rules", tag = "scope",
    params(("id" = Uuid, Path)), request_body = TenantRuleInput,
    responses((status = 201, body = TenantRule, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<TenantRuleInput>,
) -> Result<Tagged<TenantRule>> {
    let rule = store::create_rule(&s.pool, &c, id, input).await?;
    Ok(Tagged(StatusCode::CREATED, rule.version, rule))
}

/// Replace a draft tenant rule's fields. Needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/platforms/{id}/scope/rules/{rule_id}", tag = "scope",
    params(("id" = Uuid, Path), ("rule_id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body = TenantRuleInput,
    responses((status = 200, body = TenantRule, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn update_rule(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath((id, rule_id)): ApiPath<(Uuid, Uuid)>,
    IfMatch(v): IfMatch,
    JsonBody(input): JsonBody<TenantRuleInput>,
) -> Result<Tagged<TenantRule>> {
    let rule = store::update_rule(&s.pool, &c, id, rule_id, v, input).await?;
    Ok(Tagged(StatusCode::OK, rule.version, rule))
}

/// Remove a tenant rule from the draft. Needs `If-Match`.
#[utoipa::path(delete, path = "/api/v1/platforms/{id}/scope/rules/{rule_id}", tag = "scope",
    params(("id" = Uuid, Path), ("rule_id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204, description = "Removed from the draft"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn delete_rule(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath((id, rule_id)): ApiPath<(Uuid, Uuid)>,
    IfMatch(v): IfMatch,
) -> Result<StatusCode> {
    store::delete_rule(&s.pool, &c, id, rule_id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fill the draft from a template (`builtin` or a saved template's id). A draft that already
/// has items or rules is only replaced with `replace: true`. Answers the new draft; its ETag is
/// the draft's version.
#[utoipa::path(post, path = "/api/v1/platforms/{id}/scope/apply-template", tag = "scope",
    params(("id" = Uuid, Path)), request_body = ApplyTemplateInput,
    responses((status = 200, body = ScopeView, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn apply_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<ApplyTemplateInput>,
) -> Result<Tagged<ScopeView>> {
    let view = store::apply_template(&s.pool, &c, id, input).await?;
    Ok(Tagged(StatusCode::OK, draft_version(&view), view))
}

// ---- revisions -------------------------------------------------------------------------------

/// List a platform's published revisions, newest first.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/scope/revisions", tag = "scope",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ScopeRevisionMeta>), (status = 404, body = ErrorBody)))]
pub async fn list_revisions(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<ScopeRevisionMeta>>> {
    Ok(Json(store::revisions(&s.pool, &c, id).await?))
}

/// Publish the draft as the next numbered revision. Needs `If-Match` with the draft's ETag (from
/// `GET .../scope/draft`), so nobody publishes changes they have not seen; a draft equal to the
/// newest revision is refused (409).
#[utoipa::path(post, path = "/api/v1/platforms/{id}/scope/revisions", tag = "scope",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = PublishInput,
    responses((status = 201, body = ScopeRevisionMeta), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn publish(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    JsonBody(input): JsonBody<PublishInput>,
) -> Result<(StatusCode, Json<ScopeRevisionMeta>)> {
    let meta = store::publish(&s.pool, &c, id, v, input).await?;
    Ok((StatusCode::CREATED, Json(meta)))
}

/// Read one published revision (revisions never change).
#[utoipa::path(get, path = "/api/v1/platforms/{id}/scope/revisions/{number}", tag = "scope",
    params(("id" = Uuid, Path), ("number" = i32, Path, description = "The revision number")),
    responses((status = 200, body = ScopeView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn get_revision(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath((id, number)): ApiPath<(Uuid, String)>,
) -> Result<Json<ScopeView>> {
    let number: i32 = number
        .trim()
        .parse()
        .map_err(|_| domain::Error::invalid("number", "must be a revision number such as 3"))?;
    let query = ScopeQuery {
        revision: Some(number),
        as_of: None,
    };
    Ok(Json(store::view(&s.pool, &c, id, &query).await?))
}

/// Which two versions of a scope to compare.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct DiffQuery {
    /// The older revision; omitted means "nothing published" (everything is new).
    pub from: Option<i32>,
    /// The newer revision; omitted means the draft.
    pub to: Option<i32>,
}

/// Compare two revisions, or a revision and the draft: the items and rules added, removed and
/// changed, with each changed field before and after.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/scope/diff", tag = "scope",
    params(("id" = Uuid, Path), DiffQuery),
    responses((status = 200, body = ScopeDiff), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn get_diff(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<ScopeDiff>> {
    Ok(Json(store::diff(&s.pool, &c, id, q.from, q.to).await?))
}

// ---- acknowledgements ------------------------------------------------------------------------

/// Each application team on the platform and the revision it last acknowledged.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/scope/acknowledgements", tag = "scope",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<AckStatus>), (status = 404, body = ErrorBody)))]
pub async fn list_acknowledgements(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<AckStatus>>> {
    Ok(Json(store::acknowledgements(&s.pool, &c, id).await?))
}

/// Acknowledge a published revision for a team. Only the team's members can.
#[utoipa::path(post, path = "/api/v1/platforms/{id}/scope/acknowledgements", tag = "scope",
    params(("id" = Uuid, Path)), request_body = AckInput,
    responses((status = 201, body = Acknowledgement), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn acknowledge(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<AckInput>,
) -> Result<(StatusCode, Json<Acknowledgement>)> {
    let ack = store::acknowledge(&s.pool, &c, id, input).await?;
    Ok((StatusCode::CREATED, Json(ack)))
}

// ---- export ----------------------------------------------------------------------------------

/// Download a platform's published scope (as `GET .../scope` selects it) as CSV: one row per
/// item, per RACI activity and per tenant rule.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/scope/export.csv", tag = "scope",
    params(("id" = Uuid, Path), ScopeQuery),
    responses((status = 200, content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String))),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export_csv(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Response> {
    let view = store::view(&s.pool, &c, id, &q).await?;
    let text = export::csv(&view);
    let which = match &view.revision {
        Some(r) => format!("r{}", r.number),
        None => "none".to_owned(),
    };
    // Platform slugs are lowercase letters, digits and dashes: safe in a quoted filename.
    let filename = format!("scope-{}-{which}.csv", view.platform_slug);
    Ok(super::csv_response(&filename, text))
}

// ---- templates -------------------------------------------------------------------------------

/// List the templates: the built-in one (id `builtin`) and those platform engineers saved.
#[utoipa::path(get, path = "/api/v1/scope-templates", tag = "scope",
    responses((status = 200, body = Vec<ScopeTemplate>)))]
pub async fn list_templates(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
) -> Result<Json<Vec<ScopeTemplate>>> {
    Ok(Json(store::templates(&s.pool, &c).await?))
}

/// Save a platform's draft as a template.
#[utoipa::path(post, path = "/api/v1/scope-templates", tag = "scope", request_body = TemplateInput,
    responses((status = 201, body = ScopeTemplate), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn save_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    JsonBody(input): JsonBody<TemplateInput>,
) -> Result<(StatusCode, Json<ScopeTemplate>)> {
    let template = store::save_template(&s.pool, &c, input).await?;
    Ok((StatusCode::CREATED, Json(template)))
}

/// Delete a saved template (drafts started from it keep their content).
#[utoipa::path(delete, path = "/api/v1/scope-templates/{id}", tag = "scope",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode> {
    store::delete_template(&s.pool, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- audits of what is outside the fence -----------------------------------------------------

/// List audits of what is outside the fence, soonest due first (`overdue=true`: planned audits
/// past their due date).
#[utoipa::path(get, path = "/api/v1/scope-audits", tag = "scope", params(AuditListQuery),
    responses((status = 200, body = Vec<ScopeAudit>), (status = 422, body = ErrorBody)))]
pub async fn list_audits(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<AuditListQuery>,
) -> Result<Json<Vec<ScopeAudit>>> {
    Ok(Json(audits::list(&s.pool, &c, &q).await?))
}

/// Plan an audit of something outside a platform's fence: an application audit or a provider
/// audit (technical, organisational, legal aspects).
#[utoipa::path(post, path = "/api/v1/platforms/{id}/scope/audits", tag = "scope",
    params(("id" = Uuid, Path)), request_body = ScopeAuditInput,
    responses((status = 201, body = ScopeAudit, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_audit(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<ScopeAuditInput>,
) -> Result<Tagged<ScopeAudit>> {
    let audit = audits::create(&s.pool, &c, id, input).await?;
    Ok(Tagged(StatusCode::CREATED, audit.version, audit))
}

/// Read an audit.
#[utoipa::path(get, path = "/api/v1/scope-audits/{id}", tag = "scope",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ScopeAudit, headers(("ETag" = String))),
        (status = 404, body = ErrorBody)))]
pub async fn get_audit(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<ScopeAudit>> {
    let audit = audits::get(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, audit.version, audit))
}

/// Replace an audit's fields: record its outcome, findings and follow-up actions. Completing an
/// audit that repeats yearly plans the next one. Needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/scope-audits/{id}", tag = "scope",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = ScopeAuditInput,
    responses((status = 200, body = ScopeAudit, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn update_audit(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    JsonBody(input): JsonBody<ScopeAuditInput>,
) -> Result<Tagged<ScopeAudit>> {
    let audit = audits::update(&s.pool, &c, id, v, input).await?;
    Ok(Tagged(StatusCode::OK, audit.version, audit))
}
