//! REST handlers for go-live: checklist templates, reviews (items, waivers, sign-off, frozen
//! evidence, files), verification runs (queued, uploaded, from CI), cluster connections and team
//! webhooks. Each parses, calls the domain, maps the result: no rules here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::golive::model::*;
use domain::golive::runs::CiReport;
use domain::golive::store::BoardFilter;
use domain::golive::{connections, notify, runs, store};
use domain::model::{Delivery, DeliveryQuery, Page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::{ApiCaller, ApiError, ApiPath, ApiQuery, BodyOf, ErrorBody, JsonBody};
use super::{IfMatch, Tagged};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

// ---- checklist templates ---------------------------------------------------------------------

/// Read a platform's current checklist template (version 0 is Demarc's default, before the
/// platform saved its own). The ETag is the version; send it back as If-Match to save.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/checklist-template", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ChecklistTemplate, headers(("ETag" = String))),
        (status = 404, body = ErrorBody)))]
pub async fn get_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<ChecklistTemplate>> {
    let t = store::template(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, t.version, t))
}

/// What a caller sends to save a template (the base version comes from If-Match).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TemplateBody {
    pub items: Vec<ItemDef>,
    #[serde(default)]
    pub note: String,
}

/// Save a new version of the platform's checklist template. Needs `If-Match` with the version
/// edited ("0" for the first save). Open reviews keep the version they were created from.
#[utoipa::path(put, path = "/api/v1/platforms/{id}/checklist-template", tag = "go-live",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = TemplateBody,
    responses((status = 200, body = ChecklistTemplate, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn save_template(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    BodyOf(body, _): BodyOf<TemplateBody, ChecklistTemplate>,
) -> Result<Tagged<ChecklistTemplate>> {
    let input = TemplateInput {
        items: body.items,
        note: body.note,
        base_version: v,
    };
    let t = store::save_template(&s.pool, &c, id, input).await?;
    Ok(Tagged(StatusCode::OK, t.version, t))
}

/// Every saved version of a platform's checklist template, newest first.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/checklist-template/versions", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ChecklistTemplate>)))]
pub async fn list_template_versions(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<ChecklistTemplate>>> {
    Ok(Json(store::template_versions(&s.pool, &c, id).await?))
}

// ---- board and reviews -----------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// Only this platform.
    pub platform_id: Option<Uuid>,
    /// Only this team (slug).
    pub team: Option<String>,
}

/// The go-live board: every application placed on an environment, with its go-live state,
/// progress and what blocks it.
#[utoipa::path(get, path = "/api/v1/golive/board", tag = "go-live", params(BoardQuery),
    responses((status = 200, body = Vec<BoardRow>)))]
pub async fn board(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<BoardQuery>,
) -> Result<Json<Vec<BoardRow>>> {
    let filter = BoardFilter {
        platform_id: q.platform_id,
        team: q.team,
    };
    Ok(Json(
        store::board(&s.pool, &c, &filter, s.clock.now()).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenReviewBody {
    pub application_id: Uuid,
    pub environment_id: Uuid,
}

/// Open the go-live review of an application on an environment, from the platform's current
/// checklist template. The application must have namespaces on the environment (422 on
/// `environment_id` otherwise).
#[utoipa::path(post, path = "/api/v1/golive/reviews", tag = "go-live",
    request_body = OpenReviewBody,
    responses((status = 201, body = Review, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open_review(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    JsonBody(b): JsonBody<OpenReviewBody>,
) -> Result<Tagged<Review>> {
    let r = store::open_review(
        &s.pool,
        &c,
        b.application_id,
        b.environment_id,
        s.clock.now(),
    )
    .await?;
    Ok(Tagged(StatusCode::CREATED, r.version, r))
}

/// Read a go-live review: its items (waivers applied as of now), sign-offs, progress and drift.
#[utoipa::path(get, path = "/api/v1/golive/reviews/{id}", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Review, headers(("ETag" = String))),
        (status = 404, body = ErrorBody)))]
pub async fn get_review(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Review>> {
    let r = store::review(&s.pool, &c, id, s.clock.now()).await?;
    Ok(Tagged(StatusCode::OK, r.version, r))
}

/// Withdraw an open review (it stays in history). Needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/golive/reviews/{id}/withdraw", tag = "go-live",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204, description = "Withdrawn"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn withdraw_review(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
) -> Result<StatusCode> {
    store::withdraw_review(&s.pool, &c, id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Attest an item (manual items: passed or failed with evidence; any item: not applicable with
/// a reason, or back to pending). `version` in the body is the item's version.
#[utoipa::path(put, path = "/api/v1/golive/reviews/{id}/items/{key}", tag = "go-live",
    params(("id" = Uuid, Path), ("key" = String, Path)), request_body = AttestInput,
    responses((status = 200, body = ReviewItem), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attest(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath((id, key)): ApiPath<(Uuid, String)>,
    JsonBody(input): JsonBody<AttestInput>,
) -> Result<Json<ReviewItem>> {
    Ok(Json(
        store::attest(&s.pool, &c, id, &key, input, s.clock.now()).await?,
    ))
}

/// Waive an item until a date, with a reason; the caller (a platform engineer) is the approver.
/// A new waiver replaces the item's previous one. When it expires the item fails again.
#[utoipa::path(post, path = "/api/v1/golive/reviews/{id}/items/{key}/waivers", tag = "go-live",
    params(("id" = Uuid, Path), ("key" = String, Path)), request_body = WaiverInput,
    responses((status = 201, body = Waiver), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn waive(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath((id, key)): ApiPath<(Uuid, String)>,
    JsonBody(input): JsonBody<WaiverInput>,
) -> Result<(StatusCode, Json<Waiver>)> {
    let w = store::waive(&s.pool, &c, id, &key, input, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(w)))
}

/// Revoke a waiver before it expires.
#[utoipa::path(delete, path = "/api/v1/golive/waivers/{id}", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_waiver(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode> {
    store::revoke_waiver(&s.pool, &c, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignoffBody {
    /// team (a member of the application's team) or platform (a platform engineer).
    pub side: String,
}

/// Sign a review off for one side. Once both sides signed, the review is approved for go-live
/// and its evidence frozen.
#[utoipa::path(post, path = "/api/v1/golive/reviews/{id}/signoffs", tag = "go-live",
    params(("id" = Uuid, Path)), request_body = SignoffBody,
    responses((status = 200, body = Review), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn sign_off(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(b): JsonBody<SignoffBody>,
) -> Result<Json<Review>> {
    let side = SignoffSide::parse(b.side.trim())
        .ok_or_else(|| domain::Error::invalid("side", "Choose team or platform."))?;
    Ok(Json(
        store::sign_off(&s.pool, &c, id, side, s.clock.now()).await?,
    ))
}

/// The evidence as it was at sign-off (404 before approval).
#[utoipa::path(get, path = "/api/v1/golive/reviews/{id}/frozen", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = FrozenReview), (status = 404, body = ErrorBody)))]
pub async fn frozen(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<FrozenReview>> {
    Ok(Json(store::frozen(&s.pool, &c, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// The file's name (required).
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileCreated {
    pub id: Uuid,
}

/// Upload an evidence file for an item (the raw bytes as the body, at most 10 MiB); attach it
/// with the attest call's `file_id`.
#[utoipa::path(post, path = "/api/v1/golive/reviews/{id}/items/{key}/files", tag = "go-live",
    params(("id" = Uuid, Path), ("key" = String, Path), FileQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileCreated), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_file(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath((id, key)): ApiPath<(Uuid, String)>,
    ApiQuery(q): ApiQuery<FileQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<FileCreated>)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let file = store::upload_file(
        &s.pool,
        &c,
        id,
        &key,
        q.name.as_deref().unwrap_or(""),
        content_type,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(FileCreated { id: file })))
}

/// Download an evidence file.
#[utoipa::path(get, path = "/api/v1/golive/files/{id}", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody)))]
pub async fn download_file(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let f = store::file(&s.pool, &c, id).await?;
    Ok(file_response(f))
}

/// An evidence file as a download (never rendered inline: it is user content).
pub fn file_response(f: store::EvidenceFile) -> Response {
    let mut response = f.data.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let safe: String = f
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("sha-256={}", f.sha256)) {
        h.insert("x-content-sha256", v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

// ---- verification runs -----------------------------------------------------------------------

/// Queue a verification of the review's automatic items against the environment's cluster. A
/// run already queued or running is returned instead. Poll the run for progress.
#[utoipa::path(post, path = "/api/v1/golive/reviews/{id}/runs", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 202, body = VerificationRun), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn request_run(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<VerificationRun>)> {
    let run = runs::request(&s.pool, &c, id, "api", s.clock.now()).await?;
    Ok((StatusCode::ACCEPTED, Json(run)))
}

/// A review's verification runs, newest first.
#[utoipa::path(get, path = "/api/v1/golive/reviews/{id}/runs", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<VerificationRun>)))]
pub async fn list_runs(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<VerificationRun>>> {
    Ok(Json(runs::runs(&s.pool, &c, id).await?))
}

/// One verification run, with its progress.
#[utoipa::path(get, path = "/api/v1/golive/runs/{id}", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = VerificationRun), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<VerificationRun>> {
    Ok(Json(runs::run(&s.pool, &c, id).await?))
}

/// Every result of a run, with its evidence (objects read, values seen).
#[utoipa::path(get, path = "/api/v1/golive/runs/{id}/results", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<CheckResult>)))]
pub async fn run_results(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<CheckResult>>> {
    Ok(Json(runs::results(&s.pool, &c, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// A name for the upload (the file name), shown as the run's source.
    pub name: Option<String>,
}

/// Verify a review from the output of `kubectl get ... -o json` (a List) or YAML manifests, sent
/// as the body: for clusters Demarc cannot reach. Evaluated at once; answers with the run.
/// Objects without a namespace belong to the application's namespace when it has one on the
/// environment. An upload without a workload in the application's namespaces is refused (422,
/// field `file`, naming the namespaces found and expected), as is one for an application
/// without namespaces there (field `namespaces`).
#[utoipa::path(post, path = "/api/v1/golive/reviews/{id}/uploads", tag = "go-live",
    params(("id" = Uuid, Path), UploadQuery),
    request_body(content = String, content_type = "application/json"),
    responses((status = 201, body = VerificationRun), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<VerificationRun>)> {
    let text = String::from_utf8(Vec::from(body))
        .map_err(|_| domain::Error::invalid("body", "The upload must be UTF-8 JSON or YAML."))?;
    let name = q.name.unwrap_or_else(|| "upload.json".into());
    let run = runs::upload(&s.pool, &c, id, &name, text, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// Record a CI pipeline's report (from `server check --post`) as a run of the application's
/// review on the environment.
///
/// The body may be the whole JSON report of `server check --format json` with `application` and
/// `environment` added: the report's fields a run does not keep (`schema`, `generated_at`,
/// `required`, `summary`, `checks`, and each result's `required` and `origin`) are accepted and
/// not read; any other field the body does not have is refused (422, naming it).
#[utoipa::path(post, path = "/api/v1/check-reports", tag = "go-live",
    request_body = CiReport,
    responses((status = 201, body = VerificationRun), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn check_report(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    BodyOf(report, _): CheckReportBody,
) -> Result<(StatusCode, Json<VerificationRun>)> {
    let run = runs::ci_report(&s.pool, &c, report, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// A posted check report: the whole JSON report `server check --post` sends, whose fields a
/// run does not keep are accepted as the report's own ([`BodyOf`] with the report's shape).
type CheckReportBody = BodyOf<CiReport, checks::report::Report>;

// ---- cluster connections ---------------------------------------------------------------------

/// An environment's cluster connection (never with its secret); 404 when none is set.
#[utoipa::path(get, path = "/api/v1/environments/{id}/cluster-connection", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ClusterConnection, headers(("ETag" = String))),
        (status = 404, body = ErrorBody)))]
pub async fn get_connection(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<ClusterConnection>> {
    let conn = connections::get(&s.pool, &c, id)
        .await?
        .ok_or_else(|| domain::Error::not_found("cluster connection"))?;
    Ok(Tagged(StatusCode::OK, conn.version, conn))
}

/// Set an environment's cluster connection: in_cluster, kubeconfig (the file as `secret`) or
/// token (API server URL, CA, bearer token as `secret`). The secret is stored encrypted and never
/// shown again; an empty secret keeps the stored one, except that a token must be given again
/// when the API server URL or the CA changes (422 on `secret`). `version` is 0 for a new
/// connection.
#[utoipa::path(put, path = "/api/v1/environments/{id}/cluster-connection", tag = "go-live",
    params(("id" = Uuid, Path)), request_body = ConnectionInput,
    responses((status = 200, body = ClusterConnection, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_connection(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<ConnectionInput>,
) -> Result<Tagged<ClusterConnection>> {
    let conn = connections::set(&s.pool, &c, &s.secrets, id, input).await?;
    Ok(Tagged(StatusCode::OK, conn.version, conn))
}

/// Remove an environment's cluster connection.
#[utoipa::path(delete, path = "/api/v1/environments/{id}/cluster-connection", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn remove_connection(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode> {
    connections::remove(&s.pool, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Test the connection: the server version, and the permissions the credentials lack, by name.
/// A failed test is recorded on the connection; the last known server version stays.
#[utoipa::path(post, path = "/api/v1/environments/{id}/cluster-connection/test", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ConnectionTest), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test_connection(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ConnectionTest>> {
    Ok(Json(
        connections::test(&s.pool, &c, &s.secrets, id, s.clock.now()).await?,
    ))
}

// ---- team webhooks ---------------------------------------------------------------------------

/// A team's notification webhooks (URLs are never shown; `hint` is the host).
#[utoipa::path(get, path = "/api/v1/teams/{id}/webhooks", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<TeamWebhook>)))]
pub async fn list_webhooks(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TeamWebhook>>> {
    Ok(Json(notify::webhooks(&s.pool, &c, id).await?))
}

/// Add a webhook to a team: `json` posts `{"event": ..., ...}`, `slack` posts `{"text": ...}`.
#[utoipa::path(post, path = "/api/v1/teams/{id}/webhooks", tag = "go-live",
    params(("id" = Uuid, Path)), request_body = WebhookInput,
    responses((status = 201, body = TeamWebhook), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_webhook(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<(StatusCode, Json<TeamWebhook>)> {
    let hook =
        notify::add_webhook(&s.pool, &c, &s.secrets, &s.config.webhook_egress, id, input).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

/// A team's delivery log: the notifications queued for its webhooks and e-mail addresses,
/// newest first, each with its state and every attempt (the receiver's status, the error).
#[utoipa::path(get, path = "/api/v1/teams/{id}/deliveries", tag = "go-live",
    params(("id" = Uuid, Path), DeliveryQuery),
    responses((status = 200, body = Page<Delivery>), (status = 404, body = ErrorBody)))]
pub async fn list_deliveries(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Result<Json<Page<Delivery>>> {
    Ok(Json(
        domain::deliveries::of_team(&s.pool, &c, id, &q).await?,
    ))
}

/// Remove a webhook.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "go-live",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn remove_webhook(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode> {
    notify::remove_webhook(&s.pool, &c, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::FromRequest;
    use checks::{CheckId, CheckResult, Evidence, ObjectRef, Outcome, SourceInfo};

    async fn post(body: serde_json::Value) -> std::result::Result<CiReport, serde_json::Value> {
        let req = axum::extract::Request::new(axum::body::Body::from(body.to_string()));
        match CheckReportBody::from_request(req, &()).await {
            Ok(BodyOf(report, _)) => Ok(report),
            Err(response) => {
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                Err(serde_json::from_slice(&bytes).unwrap())
            }
        }
    }

    /// `server check --post` sends the whole report: every field of it is taken.
    #[tokio::test]
    async fn a_posted_check_report_may_carry_the_whole_report() {
        let result = CheckResult {
            check: CheckId::Replicas,
            subject: ObjectRef {
                kind: "Deployment".into(),
                namespace: Some("shop".into()),
                name: "cart".into(),
                resource_version: None,
            },
            outcome: Outcome::Fail,
            message: "1 replica".into(),
            evidence: Evidence::default(),
        };
        let source = SourceInfo {
            kind: "manifests".into(),
            name: "k8s/".into(),
            server_version: None,
            server: None,
            read_at: chrono::Utc::now(),
        };
        let mut report = checks::report::Report::new(
            &[result.clone(), result],
            Some(&source),
            &[CheckId::Replicas],
            None,
            chrono::Utc::now(),
        );
        report.results[1].origin = Some(checks::manifests::Origin {
            file: "k8s/cart.yaml".into(),
            document: 0,
            line: Some(1),
        });
        let mut body = serde_json::to_value(&report).unwrap();
        body["application"] = "shop".into();
        body["environment"] = "production".into();
        let posted = post(body.clone()).await.unwrap();
        assert_eq!(posted.results.len(), 2);

        // Anything else is still refused, by its path.
        let mut typo = body.clone();
        typo["results"][1]["outcom"] = "pass".into();
        typo["sumary"] = serde_json::json!({});
        let refused = post(typo).await.unwrap_err();
        let fields = refused["error"]["fields"].as_object().unwrap();
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            ["results[1].outcom", "sumary"],
            "{refused}"
        );
    }
}
