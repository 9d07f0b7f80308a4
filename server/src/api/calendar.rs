//! REST handlers for the maintenance calendar: plans, schedules, blackouts and holiday
//! suggestions, notice settings, maintenances and their lifecycle, retrospectives and action
//! items, acknowledgements, DR drills, the calendar itself, end-of-life status, ICS feeds and
//! teams' e-mail recipients. Each parses, calls `domain::calendar`, maps the result.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use domain::calendar::holidays::{self, Holiday};
use domain::calendar::maintenances::{MaintenanceQuery, Transition};
use domain::calendar::model::*;
use domain::calendar::{drills, events, maintenances, notices, plans};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::{ApiCaller, ApiError, ApiPath, ApiQuery, BodyOf, ErrorBody, JsonBody};
use super::{IfMatch, Tagged, csv_response};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

fn midnight(d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

// ---- plans -----------------------------------------------------------------------------------

/// The maintenance plans of a platform's environments, in the platform's order.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/maintenance-plans", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<MaintenancePlan>), (status = 404, body = ErrorBody)))]
pub async fn list_plans(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<MaintenancePlan>>> {
    Ok(Json(plans::plans(&s.pool, &c, id).await?))
}

/// An environment's maintenance plan. The ETag is its version.
#[utoipa::path(get, path = "/api/v1/environments/{id}/maintenance-plan", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = MaintenancePlan, headers(("ETag" = String))),
        (status = 404, body = ErrorBody)))]
pub async fn get_plan(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<MaintenancePlan>> {
    let p = plans::plan(&s.pool, &c, id)
        .await?
        .ok_or_else(|| domain::Error::not_found("maintenance plan"))?;
    Ok(Tagged(StatusCode::OK, p.version, p))
}

/// Set an environment's plan: its own rhythm (`recurrence`) or following an earlier environment
/// (`follows_environment_id` + `soak_working_days`). Send `If-Match: "0"` to create it. A plan
/// that would break the soak period in the next 12 months where it held before is refused, each
/// violation explained by date. The plan comes back with `warnings`: planned or announced
/// maintenances whose window went or moved with the change, and soak violations that were there
/// before and remain (they do not block the save).
#[utoipa::path(put, path = "/api/v1/environments/{id}/maintenance-plan", tag = "calendar",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = PlanForm,
    responses((status = 200, body = PlanSaved, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn save_plan(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    BodyOf(mut form, _): BodyOf<PlanForm, MaintenancePlan>,
) -> Result<Tagged<PlanSaved>> {
    form.base_version = v;
    let saved = plans::save_plan(&s.pool, &c, id, form, s.clock.now()).await?;
    Ok(Tagged(StatusCode::OK, saved.plan.version, saved))
}

/// Remove an environment's plan (refused while other environments follow it).
#[utoipa::path(delete, path = "/api/v1/environments/{id}/maintenance-plan", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_plan(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode> {
    plans::remove_plan(&s.pool, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day (UTC); default today.
    pub from: Option<NaiveDate>,
    /// Day after the last (UTC); default a year after `from`.
    pub to: Option<NaiveDate>,
}

/// An environment's windows over a period (after blackouts), the windows blackouts removed, and
/// for a following environment every window that breaks the soak period, explained by date.
#[utoipa::path(get, path = "/api/v1/environments/{id}/schedule", tag = "calendar",
    params(("id" = Uuid, Path), RangeQuery),
    responses((status = 200, body = EnvironmentSchedule), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn schedule(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> Result<Json<EnvironmentSchedule>> {
    let mut p = domain::validate::Problems::default();
    for (field, day) in [("from", q.from), ("to", q.to)] {
        if let Some(day) = day {
            domain::validate::date(&mut p, field, day);
        }
    }
    p.finish()?;
    let from = q.from.map(midnight).unwrap_or_else(|| s.clock.now());
    let to = q.to.map(midnight).unwrap_or_else(|| {
        from.checked_add_signed(Duration::days(plans::SKEW_HORIZON_DAYS))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
    });
    Ok(Json(plans::schedule(&s.pool, &c, id, from, to).await?))
}

// ---- blackouts, holidays, settings -------------------------------------------------------------

/// A platform's blackouts (for the whole platform or one environment).
#[utoipa::path(get, path = "/api/v1/platforms/{id}/blackouts", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<BlackoutEntry>), (status = 404, body = ErrorBody)))]
pub async fn list_blackouts(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<BlackoutEntry>>> {
    Ok(Json(plans::blackouts(&s.pool, &c, id).await?))
}

/// Add a blackout: no maintenance on these days (windows are skipped or moved, as each plan
/// says). The blackout comes back with `warnings`: planned or announced maintenances that now
/// fall in it (they cannot be announced or started there) or whose window moved, and the skew
/// violations it causes.
#[utoipa::path(post, path = "/api/v1/platforms/{id}/blackouts", tag = "calendar",
    params(("id" = Uuid, Path)), request_body = BlackoutForm,
    responses((status = 201, body = BlackoutSaved), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_blackout(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(form): JsonBody<BlackoutForm>,
) -> Result<(StatusCode, Json<BlackoutSaved>)> {
    Ok((
        StatusCode::CREATED,
        Json(plans::add_blackout(&s.pool, &c, id, form, s.clock.now()).await?),
    ))
}

/// Remove a blackout. The answer's `warnings` name planned or announced maintenances whose
/// window the blackout had moved (it goes back to its own day) and production windows that come
/// back too soon after staging.
#[utoipa::path(delete, path = "/api/v1/blackouts/{id}", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BlackoutRemoved), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn remove_blackout(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<BlackoutRemoved>> {
    Ok(Json(
        plans::remove_blackout(&s.pool, &c, id, s.clock.now()).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolidayQuery {
    /// ISO 3166 country code (NL, DE, GB, US...): required.
    pub country: Option<String>,
    /// Default: this year.
    pub year: Option<i32>,
}

/// National public holidays of a country in a year: suggestions for blackouts, from data
/// shipped with Demarc (no network).
#[utoipa::path(get, path = "/api/v1/holidays", tag = "calendar", params(HolidayQuery),
    responses((status = 200, body = Vec<Object>), (status = 422, body = ErrorBody)))]
pub async fn list_holidays(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<HolidayQuery>,
) -> Result<Json<Vec<Holiday>>> {
    use chrono::Datelike;
    c.actor.authorize(domain::Action::Read)?;
    let country = q
        .country
        .ok_or_else(|| domain::Error::invalid("country", "is required, e.g. NL"))?;
    let year = q.year.unwrap_or_else(|| s.clock.now().year());
    Ok(Json(holidays::holidays(&country, year)?))
}

/// A platform's notice and reminder settings. The ETag is their version.
#[utoipa::path(get, path = "/api/v1/platforms/{id}/calendar-settings", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CalendarSettings, headers(("ETag" = String))),
        (status = 404, body = ErrorBody)))]
pub async fn get_settings(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<CalendarSettings>> {
    let settings = plans::settings(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, settings.version, settings))
}

/// Change how much notice a major update needs and when reminders go out (needs If-Match: the
/// settings' ETag; 412 when someone changed them since). The reminders of maintenances already
/// announced follow the new lead times (none already sent goes out again).
#[utoipa::path(put, path = "/api/v1/platforms/{id}/calendar-settings", tag = "calendar",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = CalendarSettings,
    responses((status = 200, body = CalendarSettings, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn save_settings(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    JsonBody(form): JsonBody<CalendarSettings>,
) -> Result<Tagged<CalendarSettings>> {
    let saved = plans::save_settings(&s.pool, &c, id, v, form, s.clock.now()).await?;
    Ok(Tagged(StatusCode::OK, saved.version, saved))
}

// ---- maintenances ----------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MaintenanceListQuery {
    pub platform_id: Option<Uuid>,
    pub environment_id: Option<Uuid>,
    /// Only those ending on or after this day.
    pub from: Option<NaiveDate>,
    /// Only those starting before this day.
    pub to: Option<NaiveDate>,
}

/// Maintenances, by start.
#[utoipa::path(get, path = "/api/v1/maintenances", tag = "calendar", params(MaintenanceListQuery),
    responses((status = 200, body = Vec<Maintenance>)))]
pub async fn list_maintenances(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<MaintenanceListQuery>,
) -> Result<Json<Vec<Maintenance>>> {
    let query = MaintenanceQuery {
        platform_id: q.platform_id,
        environment_id: q.environment_id,
        from: q.from.map(midnight),
        to: q.to.map(midnight),
    };
    Ok(Json(maintenances::list(&s.pool, &c, &query).await?))
}

/// Every maintenance (same filters as the list) as CSV, for auditors: when, what, the notice
/// given, how it ended, and its retrospective.
#[utoipa::path(get, path = "/api/v1/maintenances/export.csv", tag = "calendar",
    params(MaintenanceListQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_maintenances(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<MaintenanceListQuery>,
) -> Result<Response> {
    let query = MaintenanceQuery {
        platform_id: q.platform_id,
        environment_id: q.environment_id,
        from: q.from.map(midnight),
        to: q.to.map(midnight),
    };
    let list = maintenances::list(&s.pool, &c, &query).await?;
    Ok(csv_response(
        "maintenances.csv",
        domain::calendar::export::maintenances_csv(&list),
    ))
}

/// Every DR drill as CSV, for auditors: targets next to what was measured.
#[utoipa::path(get, path = "/api/v1/drills/export.csv", tag = "calendar", params(DrillQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_drills(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<DrillQuery>,
) -> Result<Response> {
    let list = drills::list(&s.pool, &c, q.platform_id).await?;
    Ok(csv_response(
        "drills.csv",
        domain::calendar::export::drills_csv(&list),
    ))
}

/// Plan a maintenance in one of the environment's windows (`window_date`), or an emergency with
/// its own `starts_at`/`ends_at` and a `justification`. Warnings (e.g. short notice) come back
/// with the maintenance.
#[utoipa::path(post, path = "/api/v1/maintenances", tag = "calendar",
    request_body = MaintenanceForm,
    responses((status = 201, body = MaintenanceSaved), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_maintenance(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    JsonBody(form): JsonBody<MaintenanceForm>,
) -> Result<Response> {
    let saved = maintenances::create(&s.pool, &c, form, s.clock.now()).await?;
    Ok(saved_response(StatusCode::CREATED, saved))
}

fn saved_response(status: StatusCode, saved: MaintenanceSaved) -> Response {
    let version = saved.maintenance.version;
    let mut response = (status, Json(saved)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// A maintenance with its retrospective. The ETag is its version.
#[utoipa::path(get, path = "/api/v1/maintenances/{id}", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Maintenance, headers(("ETag" = String))),
        (status = 404, body = ErrorBody)))]
pub async fn get_maintenance(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Maintenance>> {
    let m = maintenances::get(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, m.version, m))
}

/// Change a planned or announced maintenance (needs If-Match). Subscribers see a new SEQUENCE;
/// teams are told again when it was announced.
#[utoipa::path(put, path = "/api/v1/maintenances/{id}", tag = "calendar",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = MaintenanceForm,
    responses((status = 200, body = MaintenanceSaved), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn update_maintenance(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    BodyOf(form, _): BodyOf<MaintenanceForm, Maintenance>,
) -> Result<Response> {
    let saved = maintenances::update(&s.pool, &c, id, v, form, s.clock.now()).await?;
    Ok(saved_response(StatusCode::OK, saved))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// Why (required to cancel).
    #[serde(default)]
    pub reason: String,
}

async fn step(
    s: &AppState,
    c: &domain::db::Caller,
    id: Uuid,
    step: Transition,
    reason: &str,
) -> Result<Tagged<Maintenance>> {
    let m = maintenances::transition(&s.pool, c, id, step, reason, s.clock.now())
        .await?
        .maintenance;
    Ok(Tagged(StatusCode::OK, m.version, m))
}

/// Announce a planned maintenance: teams are told and reminders are scheduled. A major update
/// must still have the platform's notice period ahead of it; with less than about two months
/// the answer's `warnings` say how many days the teams get.
#[utoipa::path(post, path = "/api/v1/maintenances/{id}/announce", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = MaintenanceSaved, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn announce(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let saved =
        maintenances::transition(&s.pool, &c, id, Transition::Announce, "", s.clock.now()).await?;
    Ok(saved_response(StatusCode::OK, saved))
}

/// Start a maintenance (a major update only once announced).
#[utoipa::path(post, path = "/api/v1/maintenances/{id}/start", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Maintenance), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn start(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Maintenance>> {
    step(&s, &c, id, Transition::Start, "").await
}

/// End a started maintenance as completed.
#[utoipa::path(post, path = "/api/v1/maintenances/{id}/complete", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Maintenance), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Maintenance>> {
    step(&s, &c, id, Transition::Complete, "").await
}

/// End a started maintenance as rolled back.
#[utoipa::path(post, path = "/api/v1/maintenances/{id}/roll-back", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Maintenance), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn roll_back(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Maintenance>> {
    step(&s, &c, id, Transition::RollBack, "").await
}

/// Cancel a maintenance that has not started (it stays on record, and feeds show it cancelled).
#[utoipa::path(post, path = "/api/v1/maintenances/{id}/cancel", tag = "calendar",
    params(("id" = Uuid, Path)), request_body = ReasonBody,
    responses((status = 200, body = Maintenance), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn cancel(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(b): JsonBody<ReasonBody>,
) -> Result<Tagged<Maintenance>> {
    step(&s, &c, id, Transition::Cancel, &b.reason).await
}

/// Write the retrospective of an ended maintenance (needs If-Match: the maintenance's ETag).
/// The text is replaced; action items are merged (one with the same title, owner and due date is
/// not added twice, none is removed), so sending the same retrospective again changes nothing
/// and answers 200 even with the ETag it was first sent with.
#[utoipa::path(put, path = "/api/v1/maintenances/{id}/retrospective", tag = "calendar",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = RetrospectiveForm,
    responses((status = 200, body = Maintenance, headers(("ETag" = String))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn retrospective(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    BodyOf(form, _): BodyOf<RetrospectiveForm, Maintenance>,
) -> Result<Tagged<Maintenance>> {
    let m = maintenances::write_retrospective(&s.pool, &c, id, v, form, s.clock.now()).await?;
    Ok(Tagged(StatusCode::OK, m.version, m))
}

/// The teams that run applications in the maintenance's environment, and which of them have
/// acknowledged it.
#[utoipa::path(get, path = "/api/v1/maintenances/{id}/acknowledgements", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Acknowledgement>), (status = 404, body = ErrorBody)))]
pub async fn list_acknowledgements(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<Acknowledgement>>> {
    Ok(Json(maintenances::acknowledgements(&s.pool, &c, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AcknowledgeBody {
    pub team_id: Uuid,
}

/// Acknowledge an announced major update on behalf of a team (its members only).
#[utoipa::path(post, path = "/api/v1/maintenances/{id}/acknowledgements", tag = "calendar",
    params(("id" = Uuid, Path)), request_body = AcknowledgeBody,
    responses((status = 200, body = Vec<Acknowledgement>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn acknowledge(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(b): JsonBody<AcknowledgeBody>,
) -> Result<Json<Vec<Acknowledgement>>> {
    Ok(Json(
        maintenances::acknowledge(&s.pool, &c, id, b.team_id, s.clock.now()).await?,
    ))
}

/// Open action items of every retrospective, by due date.
#[utoipa::path(get, path = "/api/v1/action-items", tag = "calendar",
    responses((status = 200, body = Vec<ActionItem>)))]
pub async fn list_action_items(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
) -> Result<Json<Vec<ActionItem>>> {
    Ok(Json(maintenances::open_action_items(&s.pool, &c).await?))
}

/// Mark an action item done.
#[utoipa::path(post, path = "/api/v1/action-items/{id}/done", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ActionItem), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete_action_item(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ActionItem>> {
    Ok(Json(
        maintenances::complete_action_item(&s.pool, &c, id, s.clock.now()).await?,
    ))
}

// ---- drills ----------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DrillQuery {
    pub platform_id: Option<Uuid>,
}

/// Disaster-recovery drills, by start.
#[utoipa::path(get, path = "/api/v1/drills", tag = "calendar", params(DrillQuery),
    responses((status = 200, body = Vec<Drill>)))]
pub async fn list_drills(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<DrillQuery>,
) -> Result<Json<Vec<Drill>>> {
    Ok(Json(drills::list(&s.pool, &c, q.platform_id).await?))
}

/// Plan a drill for a platform or one of its applications.
#[utoipa::path(post, path = "/api/v1/drills", tag = "calendar", request_body = DrillForm,
    responses((status = 201, body = Drill), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_drill(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    JsonBody(form): JsonBody<DrillForm>,
) -> Result<(StatusCode, Json<Drill>)> {
    Ok((
        StatusCode::CREATED,
        Json(drills::create(&s.pool, &c, form).await?),
    ))
}

/// A drill with its targets, measurements and retrospective (with its ETag).
#[utoipa::path(get, path = "/api/v1/drills/{id}", tag = "calendar", params(("id" = Uuid, Path)),
    responses((status = 200, body = Drill), (status = 404, body = ErrorBody)))]
pub async fn get_drill(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Tagged<Drill>> {
    let d = drills::get(&s.pool, &c, id).await?;
    Ok(Tagged(StatusCode::OK, d.version, d))
}

/// Change a planned drill: reschedule it, refine its scenario, people or targets (needs
/// If-Match; it stays on its platform and application). Feeds show a new SEQUENCE.
#[utoipa::path(put, path = "/api/v1/drills/{id}", tag = "calendar",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = DrillForm,
    responses((status = 200, body = Drill), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn update_drill(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(v): IfMatch,
    BodyOf(form, _): BodyOf<DrillForm, Drill>,
) -> Result<Tagged<Drill>> {
    let d = drills::update(&s.pool, &c, id, v, form).await?;
    Ok(Tagged(StatusCode::OK, d.version, d))
}

/// Record what a drill measured (RPO, RTO, retention) and its retrospective.
#[utoipa::path(post, path = "/api/v1/drills/{id}/result", tag = "calendar",
    params(("id" = Uuid, Path)), request_body = DrillResultForm,
    responses((status = 200, body = Drill), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn record_drill(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(form): JsonBody<DrillResultForm>,
) -> Result<Json<Drill>> {
    Ok(Json(
        drills::record_result(&s.pool, &c, id, form, s.clock.now()).await?,
    ))
}

/// Cancel a planned drill, saying why (`{"reason": "..."}`).
#[utoipa::path(post, path = "/api/v1/drills/{id}/cancel", tag = "calendar",
    params(("id" = Uuid, Path)), request_body = ReasonBody,
    responses((status = 200, body = Drill), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn cancel_drill(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> Result<Json<Drill>> {
    Ok(Json(drills::cancel(&s.pool, &c, id, &body.reason).await?))
}

// ---- the calendar, end of life, feeds --------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// First day; default the first of this month. An entry counts on its local day (a window's
    /// day in its environment's time zone, which may differ from its UTC start's day).
    pub from: Option<NaiveDate>,
    /// Day after the last; default six weeks after `from`.
    pub to: Option<NaiveDate>,
    /// Platform slug.
    pub platform: Option<String>,
    pub environment_id: Option<Uuid>,
    /// Team slug: the environments its applications run in, and its drills.
    pub team: Option<String>,
    /// Comma-separated kinds: window, maintenance, drill, audit, blackout.
    pub kind: Option<String>,
}

/// Everything on the calendar in a period: plan windows, maintenances, drills, audits and
/// blackouts.
#[utoipa::path(get, path = "/api/v1/calendar/events", tag = "calendar", params(EventQuery),
    responses((status = 200, body = Vec<CalendarEvent>), (status = 422, body = ErrorBody)))]
pub async fn list_events(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Json<Vec<CalendarEvent>>> {
    let mut kinds = Vec::new();
    for k in q.kind.iter().flat_map(|k| k.split(',')).map(str::trim) {
        if k.is_empty() {
            continue;
        }
        kinds.push(EventKind::parse(k).ok_or_else(|| {
            domain::Error::invalid(
                "kind",
                format!("`{k}` is not one of window, maintenance, drill, audit, blackout"),
            )
        })?);
    }
    let filter = CalendarFilter {
        from: q.from,
        to: q.to,
        platform: q.platform,
        environment: q.environment_id,
        team: q.team,
        kinds,
    };
    Ok(Json(
        events::events(&s.pool, &c, &filter, s.clock.now()).await?,
    ))
}

/// Each environment's Kubernetes end-of-life status, from the version its cluster reported:
/// warned 90, 60 and 30 days ahead.
#[utoipa::path(get, path = "/api/v1/kubernetes/end-of-life", tag = "calendar",
    responses((status = 200, body = Vec<EnvironmentEol>)))]
pub async fn end_of_life(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
) -> Result<Json<Vec<EnvironmentEol>>> {
    Ok(Json(
        events::end_of_life(&s.pool, &c, s.clock.now().date_naive()).await?,
    ))
}

/// The ICS subscription feeds that exist (their secret URLs are shown only when made).
#[utoipa::path(get, path = "/api/v1/calendar-feeds", tag = "calendar",
    responses((status = 200, body = Vec<Feed>)))]
pub async fn list_feeds(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
) -> Result<Json<Vec<Feed>>> {
    Ok(Json(events::feeds(&s.pool, &c).await?))
}

/// Make the ICS feed of an environment, platform or team, or rotate its secret URL (the old one
/// stops working). The URL is in the answer, once.
#[utoipa::path(post, path = "/api/v1/calendar-feeds", tag = "calendar", request_body = FeedForm,
    responses((status = 201, body = FeedSecret), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn make_feed(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    JsonBody(form): JsonBody<FeedForm>,
) -> Result<(StatusCode, Json<FeedSecret>)> {
    let mut secret = events::make_feed(&s.pool, &c, form, s.clock.now()).await?;
    secret.path = s.config.url(&secret.path);
    Ok((StatusCode::CREATED, Json(secret)))
}

/// Remove a feed: its URL stops working.
#[utoipa::path(delete, path = "/api/v1/calendar-feeds/{id}", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn remove_feed(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode> {
    events::remove_feed(&s.pool, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /ics/<token>.ics`: the feed itself, for calendar clients (the token is the credential).
pub async fn feed(
    State(s): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let base = s.config.url("");
    let base = base.trim_end_matches('/');
    match events::render_feed(&s.pool, token, base, s.clock.now()).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                // The URL is a credential: no cache, shared or private, keeps the answer (a
                // rotated or removed feed stops at once; clients poll every few hours anyway).
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

// ---- team e-mail recipients ------------------------------------------------------------------

/// A team's e-mail recipients of maintenance notices (addresses are not shown again).
#[utoipa::path(get, path = "/api/v1/teams/{id}/emails", tag = "calendar",
    params(("id" = Uuid, Path)), responses((status = 200, body = Vec<TeamEmail>)))]
pub async fn list_team_emails(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TeamEmail>>> {
    Ok(Json(notices::team_emails(&s.pool, &c, id).await?))
}

/// Add an e-mail recipient of the team's maintenance notices (sealed at rest).
#[utoipa::path(post, path = "/api/v1/teams/{id}/emails", tag = "calendar",
    params(("id" = Uuid, Path)), request_body = TeamEmailForm,
    responses((status = 201, body = TeamEmail), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_team_email(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(form): JsonBody<TeamEmailForm>,
) -> Result<(StatusCode, Json<TeamEmail>)> {
    Ok((
        StatusCode::CREATED,
        Json(notices::add_team_email(&s.pool, &c, &s.secrets, id, form).await?),
    ))
}

/// Remove an e-mail recipient.
#[utoipa::path(delete, path = "/api/v1/team-emails/{id}", tag = "calendar",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn remove_team_email(
    State(s): State<AppState>,
    ApiCaller(c): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode> {
    notices::remove_team_email(&s.pool, &c, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
