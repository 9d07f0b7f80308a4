//! REST handlers for the catalogue. Each parses, calls the domain, maps the result: no rules here.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::model::{
    Application, ApplicationInput, Environment, EnvironmentInput, ListQuery, Page, Platform,
    PlatformInput, Team, TeamInput,
};
use domain::{applications, environments, platforms, teams};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiCaller, ApiError, ApiPath, ApiQuery, BodyOf, ErrorBody, JsonBody};
use super::{IfMatch, Tagged};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;
use axum::Json;

// ---- teams -----------------------------------------------------------------------------------

/// List teams.
#[utoipa::path(get, path = "/api/v1/teams", tag = "catalogue", params(ListQuery),
    responses((status = 200, body = Page<Team>), (status = 401, body = ErrorBody)))]
pub async fn list_teams(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Team>>> {
    Ok(Json(teams::list(&s.pool, &c, &q).await?))
}

/// Create a team.
#[utoipa::path(post, path = "/api/v1/teams", tag = "catalogue", request_body = TeamInput,
    responses((status = 201, body = Team), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_team(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    JsonBody(input): JsonBody<TeamInput>,
) -> Result<Tagged<Team>> {
    let team = teams::create(&s.pool, &c, input).await?;
    Ok(Tagged(StatusCode::CREATED, team.version, team))
}

/// Read a team.
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "catalogue", params(("id" = Uuid, Path)),
    responses((status = 200, body = Team, headers(("ETag" = String))), (status = 404, body = ErrorBody)))]
pub async fn get_team(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Team>> {
    let team = teams::get(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, team.version, team))
}

/// Replace a team's fields. Needs `If-Match` with the ETag last read.
#[utoipa::path(put, path = "/api/v1/teams/{id}", tag = "catalogue", request_body = TeamInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = Team), (status = 412, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn update_team(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    BodyOf(input, _): BodyOf<TeamInput, Team>,
) -> Result<Tagged<Team>> {
    let team = teams::update(&s.pool, &c, id, v, input).await?;
    Ok(Tagged(StatusCode::OK, team.version, team))
}

/// Archive a team.
#[utoipa::path(post, path = "/api/v1/teams/{id}/archive", tag = "catalogue",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), responses((status = 200, body = Team)))]
pub async fn archive_team(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
) -> Result<Tagged<Team>> {
    let team = teams::set_archived(&s.pool, &c, id, v, true).await?;
    Ok(Tagged(StatusCode::OK, team.version, team))
}

/// Restore an archived team.
#[utoipa::path(post, path = "/api/v1/teams/{id}/restore", tag = "catalogue",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), responses((status = 200, body = Team)))]
pub async fn restore_team(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
) -> Result<Tagged<Team>> {
    let team = teams::set_archived(&s.pool, &c, id, v, false).await?;
    Ok(Tagged(StatusCode::OK, team.version, team))
}

// ---- platforms -------------------------------------------------------------------------------

/// List platforms.
#[utoipa::path(get, path = "/api/v1/platforms", tag = "catalogue", params(ListQuery),
    responses((status = 200, body = Page<Platform>)))]
pub async fn list_platforms(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Platform>>> {
    Ok(Json(platforms::list(&s.pool, &c, &q).await?))
}

/// Create a platform.
#[utoipa::path(post, path = "/api/v1/platforms", tag = "catalogue", request_body = PlatformInput,
    responses((status = 201, body = Platform), (status = 422, body = ErrorBody)))]
pub async fn create_platform(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    JsonBody(input): JsonBody<PlatformInput>,
) -> Result<Tagged<Platform>> {
    let p = platforms::create(&s.pool, &c, input).await?;
    Ok(Tagged(StatusCode::CREATED, p.version, p))
}

/// Read a platform.
#[utoipa::path(get, path = "/api/v1/platforms/{id}", tag = "catalogue", params(("id" = Uuid, Path)),
    responses((status = 200, body = Platform), (status = 404, body = ErrorBody)))]
pub async fn get_platform(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Platform>> {
    let p = platforms::get(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, p.version, p))
}

/// Replace a platform's fields. Needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/platforms/{id}", tag = "catalogue", request_body = PlatformInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = Platform), (status = 412, body = ErrorBody)))]
pub async fn update_platform(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    BodyOf(input, _): BodyOf<PlatformInput, Platform>,
) -> Result<Tagged<Platform>> {
    let p = platforms::update(&s.pool, &c, id, v, input).await?;
    Ok(Tagged(StatusCode::OK, p.version, p))
}

/// Archive a platform.
#[utoipa::path(post, path = "/api/v1/platforms/{id}/archive", tag = "catalogue",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), responses((status = 200, body = Platform)))]
pub async fn archive_platform(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
) -> Result<Tagged<Platform>> {
    let p = platforms::set_archived(&s.pool, &c, id, v, true).await?;
    Ok(Tagged(StatusCode::OK, p.version, p))
}

/// Restore an archived platform.
#[utoipa::path(post, path = "/api/v1/platforms/{id}/restore", tag = "catalogue",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), responses((status = 200, body = Platform)))]
pub async fn restore_platform(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
) -> Result<Tagged<Platform>> {
    let p = platforms::set_archived(&s.pool, &c, id, v, false).await?;
    Ok(Tagged(StatusCode::OK, p.version, p))
}

// ---- environments ----------------------------------------------------------------------------

/// Filter for listing environments.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct EnvironmentQuery {
    /// Include archived environments.
    pub include_archived: bool,
}

/// List a platform's environments, in order (staging before production).
#[utoipa::path(get, path = "/api/v1/platforms/{id}/environments", tag = "catalogue",
    params(("id" = Uuid, Path), EnvironmentQuery), responses((status = 200, body = Vec<Environment>)))]
pub async fn list_environments(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<EnvironmentQuery>,
) -> Result<Json<Vec<Environment>>> {
    Ok(Json(
        environments::list(&s.pool, &c, id, q.include_archived).await?,
    ))
}

/// Add an environment to a platform.
#[utoipa::path(post, path = "/api/v1/platforms/{id}/environments", tag = "catalogue",
    params(("id" = Uuid, Path)), request_body = EnvironmentInput,
    responses((status = 201, body = Environment), (status = 422, body = ErrorBody)))]
pub async fn create_environment(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<EnvironmentInput>,
) -> Result<Tagged<Environment>> {
    let e = environments::create(&s.pool, &c, id, input).await?;
    Ok(Tagged(StatusCode::CREATED, e.version, e))
}

/// Read an environment.
#[utoipa::path(get, path = "/api/v1/environments/{id}", tag = "catalogue", params(("id" = Uuid, Path)),
    responses((status = 200, body = Environment), (status = 404, body = ErrorBody)))]
pub async fn get_environment(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Environment>> {
    let e = environments::get(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, e.version, e))
}

/// Replace an environment's fields. Needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/environments/{id}", tag = "catalogue", request_body = EnvironmentInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = Environment), (status = 412, body = ErrorBody)))]
pub async fn update_environment(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    BodyOf(input, _): BodyOf<EnvironmentInput, Environment>,
) -> Result<Tagged<Environment>> {
    let e = environments::update(&s.pool, &c, id, v, input).await?;
    Ok(Tagged(StatusCode::OK, e.version, e))
}

/// Archive an environment (409 while other environments' maintenance plans follow its plan).
#[utoipa::path(post, path = "/api/v1/environments/{id}/archive", tag = "catalogue",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = Environment), (status = 409, body = ErrorBody)))]
pub async fn archive_environment(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
) -> Result<Tagged<Environment>> {
    let e = environments::set_archived(&s.pool, &c, id, v, true).await?;
    Ok(Tagged(StatusCode::OK, e.version, e))
}

/// Restore an archived environment (409 while its maintenance plan follows an archived one's).
#[utoipa::path(post, path = "/api/v1/environments/{id}/restore", tag = "catalogue",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = Environment), (status = 409, body = ErrorBody)))]
pub async fn restore_environment(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
) -> Result<Tagged<Environment>> {
    let e = environments::set_archived(&s.pool, &c, id, v, false).await?;
    Ok(Tagged(StatusCode::OK, e.version, e))
}

// ---- applications ----------------------------------------------------------------------------

/// Filters for listing applications.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ApplicationQuery {
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 200.
    pub per_page: Option<u32>,
    /// Include archived applications.
    pub include_archived: bool,
    /// Name or slug contains.
    pub q: Option<String>,
    /// Only this team's applications.
    pub team_id: Option<Uuid>,
    /// Only applications running in this environment.
    pub environment_id: Option<Uuid>,
}

/// List applications.
#[utoipa::path(get, path = "/api/v1/applications", tag = "catalogue", params(ApplicationQuery),
    responses((status = 200, body = Page<Application>)))]
pub async fn list_applications(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<ApplicationQuery>,
) -> Result<Response> {
    let defaults = ListQuery::default();
    let list = ListQuery {
        page: q.page.unwrap_or(defaults.page),
        per_page: q.per_page.unwrap_or(defaults.per_page),
        include_archived: q.include_archived,
        q: q.q,
    };
    let filter = applications::Filter {
        team_id: q.team_id,
        environment_id: q.environment_id,
    };
    let page = applications::list_cached(&s.pool, &s.cache, &c, &list, &filter).await?;
    // The cached page keeps its JSON: encoded once per catalogue version, not per request.
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Bytes::from_owner(page.json()?),
    )
        .into_response())
}

/// Register an application.
#[utoipa::path(post, path = "/api/v1/applications", tag = "catalogue", request_body = ApplicationInput,
    responses((status = 201, body = Application), (status = 422, body = ErrorBody)))]
pub async fn create_application(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    JsonBody(input): JsonBody<ApplicationInput>,
) -> Result<Tagged<Application>> {
    let a = applications::create(&s.pool, &c, input).await?;
    Ok(Tagged(StatusCode::CREATED, a.version, a))
}

/// Read an application.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "catalogue", params(("id" = Uuid, Path)),
    responses((status = 200, body = Application), (status = 404, body = ErrorBody)))]
pub async fn get_application(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Application>> {
    let a = applications::get(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, a.version, a))
}

/// Replace an application's fields and placements. Needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/applications/{id}", tag = "catalogue", request_body = ApplicationInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = Application), (status = 412, body = ErrorBody)))]
pub async fn update_application(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    BodyOf(input, _): BodyOf<ApplicationInput, Application>,
) -> Result<Tagged<Application>> {
    let a = applications::update(&s.pool, &c, id, v, input).await?;
    Ok(Tagged(StatusCode::OK, a.version, a))
}

/// Archive an application.
#[utoipa::path(post, path = "/api/v1/applications/{id}/archive", tag = "catalogue",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), responses((status = 200, body = Application)))]
pub async fn archive_application(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
) -> Result<Tagged<Application>> {
    let a = applications::set_archived(&s.pool, &c, id, v, true).await?;
    Ok(Tagged(StatusCode::OK, a.version, a))
}

/// Restore an archived application.
#[utoipa::path(post, path = "/api/v1/applications/{id}/restore", tag = "catalogue",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), responses((status = 200, body = Application)))]
pub async fn restore_application(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
) -> Result<Tagged<Application>> {
    let a = applications::set_archived(&s.pool, &c, id, v, false).await?;
    Ok(Tagged(StatusCode::OK, a.version, a))
}
