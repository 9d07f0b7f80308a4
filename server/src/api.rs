//! The REST API for automation: `/api/v1/<plural nouns>`, JSON, pages, one error shape,
//! ETag/If-Match for updates, and an OpenAPI 3.1 document generated from these handlers.

pub mod admin;
pub mod calendar;
pub mod catalog;
pub mod error;
pub mod golive;
pub mod scope;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Demarc API",
        description = "Scope, go-live evidence and maintenance for Kubernetes platforms. \
                       Authenticate with `Authorization: Bearer <token>`: a Demarc API token or an \
                       access token from the organisation's OpenID provider.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "catalogue", description = "Teams, platforms, environments and applications"),
        (name = "audit", description = "The append-only audit log"),
        (name = "tokens", description = "API tokens"),
        (name = "scope", description = "Platform scope: the fence, RACI, tenant rules, templates, \
                                        published revisions, acknowledgements and audits of what \
                                        is outside the fence"),
        (name = "go-live", description = "Go-live checklists verified against the cluster: \
                                          templates, reviews, waivers, sign-off, verification \
                                          runs, cluster connections and team webhooks"),
        (name = "calendar", description = "The maintenance calendar: plans (production after \
                                           staging), blackouts, maintenances and their lifecycle, \
                                           retrospectives, DR drills, end of life, feeds"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes and the OpenAPI document describing exactly them.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(catalog::list_teams, catalog::create_team))
        .routes(routes!(catalog::get_team, catalog::update_team))
        .routes(routes!(catalog::archive_team))
        .routes(routes!(catalog::restore_team))
        .routes(routes!(catalog::list_platforms, catalog::create_platform))
        .routes(routes!(catalog::get_platform, catalog::update_platform))
        .routes(routes!(catalog::archive_platform))
        .routes(routes!(catalog::restore_platform))
        .routes(routes!(
            catalog::list_environments,
            catalog::create_environment
        ))
        .routes(routes!(
            catalog::get_environment,
            catalog::update_environment
        ))
        .routes(routes!(catalog::archive_environment))
        .routes(routes!(catalog::restore_environment))
        .routes(routes!(
            catalog::list_applications,
            catalog::create_application
        ))
        .routes(routes!(
            catalog::get_application,
            catalog::update_application
        ))
        .routes(routes!(catalog::archive_application))
        .routes(routes!(catalog::restore_application))
        .routes(routes!(admin::list_audit_entries))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::me))
        .routes(routes!(scope::get_scope))
        .routes(routes!(scope::get_draft))
        .routes(routes!(scope::create_item))
        .routes(routes!(scope::update_item, scope::delete_item))
        .routes(routes!(scope::create_rule))
        .routes(routes!(scope::update_rule, scope::delete_rule))
        .routes(routes!(scope::apply_template))
        .routes(routes!(scope::list_revisions, scope::publish))
        .routes(routes!(scope::get_revision))
        .routes(routes!(scope::get_diff))
        .routes(routes!(scope::list_acknowledgements, scope::acknowledge))
        .routes(routes!(scope::export_csv))
        .routes(routes!(scope::list_templates, scope::save_template))
        .routes(routes!(scope::delete_template))
        .routes(routes!(scope::list_audits))
        .routes(routes!(scope::create_audit))
        .routes(routes!(scope::get_audit, scope::update_audit))
        .routes(routes!(golive::get_template, golive::save_template))
        .routes(routes!(golive::list_template_versions))
        .routes(routes!(golive::board))
        .routes(routes!(golive::open_review))
        .routes(routes!(golive::get_review))
        .routes(routes!(golive::withdraw_review))
        .routes(routes!(golive::attest))
        .routes(routes!(golive::waive))
        .routes(routes!(golive::revoke_waiver))
        .routes(routes!(golive::sign_off))
        .routes(routes!(golive::frozen))
        .routes(routes!(golive::upload_file))
        .routes(routes!(golive::download_file))
        .routes(routes!(golive::request_run, golive::list_runs))
        .routes(routes!(golive::get_run))
        .routes(routes!(golive::run_results))
        .routes(routes!(golive::upload))
        .routes(routes!(golive::check_report))
        .routes(routes!(
            golive::get_connection,
            golive::set_connection,
            golive::remove_connection
        ))
        .routes(routes!(golive::test_connection))
        .routes(routes!(golive::list_webhooks, golive::add_webhook))
        .routes(routes!(golive::remove_webhook))
        .routes(routes!(golive::list_deliveries))
        .routes(routes!(calendar::list_plans))
        .routes(routes!(
            calendar::get_plan,
            calendar::save_plan,
            calendar::remove_plan
        ))
        .routes(routes!(calendar::schedule))
        .routes(routes!(calendar::list_blackouts, calendar::add_blackout))
        .routes(routes!(calendar::remove_blackout))
        .routes(routes!(calendar::list_holidays))
        .routes(routes!(calendar::get_settings, calendar::save_settings))
        .routes(routes!(
            calendar::list_maintenances,
            calendar::create_maintenance
        ))
        .routes(routes!(
            calendar::get_maintenance,
            calendar::update_maintenance
        ))
        .routes(routes!(calendar::export_maintenances))
        .routes(routes!(calendar::export_drills))
        .routes(routes!(calendar::announce))
        .routes(routes!(calendar::start))
        .routes(routes!(calendar::complete))
        .routes(routes!(calendar::roll_back))
        .routes(routes!(calendar::cancel))
        .routes(routes!(calendar::retrospective))
        .routes(routes!(
            calendar::list_acknowledgements,
            calendar::acknowledge
        ))
        .routes(routes!(calendar::list_action_items))
        .routes(routes!(calendar::complete_action_item))
        .routes(routes!(calendar::list_drills, calendar::create_drill))
        .routes(routes!(calendar::get_drill, calendar::update_drill))
        .routes(routes!(calendar::record_drill))
        .routes(routes!(calendar::cancel_drill))
        .routes(routes!(calendar::list_events))
        .routes(routes!(calendar::end_of_life))
        .routes(routes!(calendar::list_feeds, calendar::make_feed))
        .routes(routes!(calendar::remove_feed))
        .routes(routes!(
            calendar::list_team_emails,
            calendar::add_team_email
        ))
        .routes(routes!(calendar::remove_team_email))
        .split_for_parts();
    // Evidence files and uploaded Lists are larger than axum's 2 MB default.
    let router = router.layer(axum::extract::DefaultBodyLimit::max(24 * 1024 * 1024));
    describe_responses(&mut openapi);
    (router, openapi)
}

/// OpenAPI requires a description on every response; where a handler gives none, the status
/// code's reason phrase ("OK", "Not Found"...) stands in.
fn describe_responses(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                if let utoipa::openapi::RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|code| StatusCode::from_u16(code).ok())
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("Response")
                        .to_owned();
                }
            }
        }
    }
}

/// A CSV download: `text/csv` with an attachment file name (ASCII letters, digits, dashes and
/// dots only, so it needs no escaping).
pub fn csv_response(filename: &str, text: String) -> Response {
    let mut response = (StatusCode::OK, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A resource with its ETag (its version), as every single-resource answer is sent.
pub struct Tagged<T>(pub StatusCode, pub i32, pub T);

impl<T: Serialize> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(self.2)).into_response();
        if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", self.1)) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    }
}

/// The version a client last saw, from `If-Match`; updates without it are refused (428).
pub struct IfMatch(pub i32);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Err(error::plain(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                "Send the ETag you read as If-Match, so a concurrent change is not overwritten.",
            ));
        };
        value
            .to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse().ok())
            .map(IfMatch)
            .ok_or_else(|| {
                error::ApiError(domain::Error::invalid(
                    "If-Match",
                    "must be an ETag this API returned, such as \"3\"",
                ))
                .into_response()
            })
    }
}
