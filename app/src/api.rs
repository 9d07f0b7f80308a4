//! Server functions: the UI's private calls. Each one resolves the caller from the request,
//! calls the domain (which authorizes and validates) and returns its result. No rules here.

use domain::model::{
    ApiToken, Application, AuditEntry, CreatedApiToken, Dashboard, Environment, Page, Platform,
    Team,
};
use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

pub mod calendar;
pub mod golive;
pub mod scope;

/// The answer codec of every server function: JSON in a POST's answer. The browser reads it only
/// through the enhancer (`crate::enhance`): a failed call's error, or a once-only answer it
/// reveals in the page.
pub type Answer = leptos::server_fn::codec::Post<JsonEncoding>;

/// The error every server function returns: a domain error the UI can show per field. In JSON it
/// is the domain error itself (what the enhancer reads), with `form` beside its fields when set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiError {
    #[serde(flatten)]
    pub error: domain::Error,
    /// Which of the page's forms that post to this function made the call (a checklist item's
    /// key), when there are several: a plain post's refusal comes back to the page, and only
    /// that form shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
}

impl UiError {
    /// The error, shown only by the form named `form` (see [`crate::components::PostForm`]).
    pub fn in_form(mut self, form: &str) -> Self {
        self.form = Some(form.to_owned());
        self
    }
}

impl FromServerFnError for UiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = match value {
            ServerFnErrorErr::Args(message) => {
                domain::Error::invalid("form", format!("could not be read: {message}"))
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                domain::Error::Unavailable
            }
            // On the server the detail goes to the log under a short reference, which is all
            // the page shows; in the browser there is no log, and the text is the user's own.
            #[cfg(feature = "ssr")]
            other => domain::error::internal(&other),
            #[cfg(not(feature = "ssr"))]
            other => domain::Error::Internal {
                reference: other.to_string(),
            },
        };
        // A form that cannot be read is the caller's mistake (422), not the server's (500).
        #[cfg(feature = "ssr")]
        ssr::set_status(&error);
        UiError { error, form: None }
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl From<domain::Error> for UiError {
    fn from(e: domain::Error) -> Self {
        #[cfg(feature = "ssr")]
        ssr::set_status(&e);
        UiError {
            error: e,
            form: None,
        }
    }
}

/// Result of a server function.
pub type UiResult<T> = Result<T, UiError>;

/// Who is signed in, for the layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    pub role_label: String,
    pub teams: Vec<String>,
    pub manages_platform: bool,
    pub reads_audit_log: bool,
    pub sees_tokens: bool,
    pub read_only: bool,
}

/// A platform with its environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformDetail {
    pub platform: Platform,
    pub environments: Vec<Environment>,
    pub can_edit: bool,
}

/// What the application form needs to offer: teams and environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppChoices {
    pub teams: Vec<Team>,
    /// (platform name, environment)
    pub environments: Vec<(String, Environment)>,
}

/// An application with what its page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationDetail {
    pub application: Application,
    pub choices: AppChoices,
    pub can_edit: bool,
}

/// A team with its applications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamDetail {
    pub team: Team,
    pub applications: Vec<Application>,
    pub can_edit: bool,
    /// One page of the notifications sent to the team's webhooks and e-mail addresses.
    pub deliveries: Page<domain::model::Delivery>,
}

/// One environment's namespaces as the application form sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlacementField {
    pub environment_id: String,
    /// Comma- or space-separated namespaces.
    #[serde(default)]
    pub namespaces: String,
}

#[cfg(feature = "ssr")]
mod ssr {
    use domain::db::{Caller, PgPool};
    use leptos::prelude::*;

    use super::UiError;

    /// The caller of this request, if signed in (resolved by the server's middleware).
    pub fn caller() -> Option<Caller> {
        use_context::<http::request::Parts>()?
            .extensions
            .get::<Caller>()
            .cloned()
    }

    /// The pool and the caller of this request; an error when nobody is signed in.
    pub fn context() -> Result<(PgPool, Caller), UiError> {
        let caller = caller().ok_or(domain::Error::Unauthenticated)?;
        Ok((provided::<PgPool>("database pool")?, caller))
    }

    /// Answers a failed call from a script with the error's own status (422 for bad input,
    /// 403...) instead of a blanket 500. A plain HTML form post keeps the redirect back to its
    /// page, which carries the error in its address.
    pub fn set_status(error: &domain::Error) {
        let from_form = use_context::<http::request::Parts>().is_some_and(|p| {
            p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        if let (false, Some(response)) = (from_form, use_context::<leptos_axum::ResponseOptions>())
            && let Ok(status) = http::StatusCode::from_u16(error.status_code())
        {
            response.set_status(status);
        }
    }

    /// Parses a form's id field.
    pub fn uuid(field: &str, value: &str) -> Result<uuid::Uuid, UiError> {
        value
            .trim()
            .parse()
            .map_err(|_| UiError::from(domain::Error::invalid(field, "is not a valid id")))
    }

    /// Parses a form's number field.
    pub fn number<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, UiError> {
        value
            .trim()
            .parse()
            .map_err(|_| UiError::from(domain::Error::invalid(field, "must be a whole number")))
    }

    /// Parses an optional id (empty = none).
    pub fn maybe_uuid(field: &str, value: &Option<String>) -> Result<Option<uuid::Uuid>, UiError> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => uuid(field, v).map(Some),
        }
    }

    /// Parses a form's date field (`YYYY-MM-DD`, as `<input type="date">` sends it), in the
    /// years every date must be in ([`domain::validate::day`]).
    pub fn date(field: &str, value: &str) -> Result<chrono::NaiveDate, UiError> {
        let day = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
            domain::Error::invalid(
                field,
                "must be a date written YYYY-MM-DD, such as 2026-03-31",
            )
        })?;
        Ok(domain::validate::day(field, day)?)
    }

    /// Parses an optional date (empty = none).
    pub fn optional_date(field: &str, value: &str) -> Result<Option<chrono::NaiveDate>, UiError> {
        if value.trim().is_empty() {
            Ok(None)
        } else {
            date(field, value).map(Some)
        }
    }

    /// True for a ticked checkbox.
    pub fn checked(value: &Option<String>) -> bool {
        value.as_deref().is_some_and(|v| v == "on" || v == "true")
    }

    /// Something the server provides to every request's context; its absence is a bug.
    fn provided<T: Clone + Send + Sync + 'static>(what: &str) -> Result<T, UiError> {
        use_context::<T>()
            .ok_or_else(|| domain::error::internal(&format!("no {what} in context")).into())
    }

    /// The time every rule reads (a settable clock in tests).
    pub fn now() -> Result<chrono::DateTime<chrono::Utc>, UiError> {
        Ok(provided::<domain::clock::Clock>("clock")?.now())
    }

    /// This replica's cache of read-heavy answers.
    pub fn cache() -> Result<std::sync::Arc<domain::cache::CatalogueCache>, UiError> {
        provided("cache")
    }

    /// The box that seals stored secrets (cluster credentials, webhooks, e-mail addresses).
    pub fn secrets() -> Result<std::sync::Arc<domain::crypto::SecretBox>, UiError> {
        provided("secret box")
    }

    /// Where team webhooks may point (the operator's allowed networks).
    pub fn egress() -> Result<std::sync::Arc<domain::egress::Egress>, UiError> {
        provided("webhook network rule")
    }

    /// Every item of a list, for the choices a page offers.
    pub fn every() -> domain::model::ListQuery {
        domain::model::ListQuery {
            per_page: 200,
            ..Default::default()
        }
    }
}

/// The signed-in person, or None.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn whoami() -> UiResult<Option<Me>> {
    use domain::Action;
    let Some(caller) = ssr::caller() else {
        return Ok(None);
    };
    let a = &caller.actor;
    Ok(Some(Me {
        name: a.name.clone(),
        role_label: a.role_label(),
        teams: a.teams.clone(),
        manages_platform: a.may(Action::ManagePlatforms),
        reads_audit_log: a.may(Action::ReadAuditLog),
        sees_tokens: a.may(Action::ManageTokens) || a.has(domain::Role::Auditor),
        read_only: a.is_read_only(),
    }))
}

/// Counts and recent changes.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_dashboard() -> UiResult<Dashboard> {
    let (pool, caller) = ssr::context()?;
    let today = ssr::now()?.date_naive();
    let cache = ssr::cache()?;
    Ok(domain::applications::dashboard(&pool, &cache, &caller, today).await?)
}

/// Teams, filtered and paged.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn list_teams(
    q: Option<String>,
    include_archived: bool,
    page: u32,
) -> UiResult<Page<Team>> {
    let (pool, caller) = ssr::context()?;
    let query = domain::model::ListQuery {
        page,
        per_page: 50,
        include_archived,
        q,
    };
    Ok(domain::teams::list(&pool, &caller, &query).await?)
}

/// A team, its applications and one page (`deliveries`, from 1) of its delivery log.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_team(
    id: String,
    #[server(default)] deliveries: Option<String>,
) -> UiResult<TeamDetail> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let team = domain::teams::get(&pool, &caller, id).await?;
    let page = match deliveries.as_deref().map(str::trim) {
        None | Some("") => 1,
        Some(p) => ssr::number::<u32>("deliveries", p)?.max(1),
    };
    let deliveries = domain::deliveries::of_team(
        &pool,
        &caller,
        id,
        &domain::model::DeliveryQuery { page, per_page: 10 },
    )
    .await?;
    let query = domain::model::ListQuery {
        per_page: 200,
        include_archived: true,
        ..Default::default()
    };
    let filter = domain::applications::Filter {
        team_id: Some(id),
        environment_id: None,
    };
    let applications = domain::applications::list(&pool, &caller, &query, &filter)
        .await?
        .items;
    let can_edit = caller.actor.may(domain::Action::ManageTeams);
    Ok(TeamDetail {
        team,
        applications,
        can_edit,
        deliveries,
    })
}

/// Creates (no id) or edits a team, then shows it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_team(
    id: Option<String>,
    version: Option<String>,
    slug: String,
    name: String,
    description: String,
    contact: String,
) -> UiResult<Team> {
    let (pool, caller) = ssr::context()?;
    let input = domain::model::TeamInput {
        slug,
        name,
        description,
        contact,
    };
    let team = match ssr::maybe_uuid("id", &id)? {
        None => domain::teams::create(&pool, &caller, input).await?,
        Some(id) => {
            let version = ssr::number("version", version.as_deref().unwrap_or_default())?;
            domain::teams::update(&pool, &caller, id, version, input).await?
        }
    };
    leptos_axum::redirect(&format!("/teams/{}", team.id));
    Ok(team)
}

/// Archives or restores a team.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn archive_team(id: String, version: String, archive: bool) -> UiResult<Team> {
    let (pool, caller) = ssr::context()?;
    let (id, version) = (ssr::uuid("id", &id)?, ssr::number("version", &version)?);
    Ok(domain::teams::set_archived(&pool, &caller, id, version, archive).await?)
}

/// Platforms, filtered and paged.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn list_platforms(include_archived: bool) -> UiResult<Page<Platform>> {
    let (pool, caller) = ssr::context()?;
    let query = domain::model::ListQuery {
        per_page: 200,
        include_archived,
        ..Default::default()
    };
    Ok(domain::platforms::list(&pool, &caller, &query).await?)
}

/// A platform and its environments.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_platform(id: String) -> UiResult<PlatformDetail> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let platform = domain::platforms::get(&pool, &caller, id).await?;
    let environments = domain::environments::list(&pool, &caller, id, true).await?;
    let can_edit = caller.actor.may(domain::Action::ManagePlatforms);
    Ok(PlatformDetail {
        platform,
        environments,
        can_edit,
    })
}

/// Creates (no id) or edits a platform, then shows it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_platform(
    id: Option<String>,
    version: Option<String>,
    slug: String,
    name: String,
    description: String,
) -> UiResult<Platform> {
    let (pool, caller) = ssr::context()?;
    let input = domain::model::PlatformInput {
        slug,
        name,
        description,
    };
    let platform = match ssr::maybe_uuid("id", &id)? {
        None => domain::platforms::create(&pool, &caller, input).await?,
        Some(id) => {
            let version = ssr::number("version", version.as_deref().unwrap_or_default())?;
            domain::platforms::update(&pool, &caller, id, version, input).await?
        }
    };
    leptos_axum::redirect(&format!("/platforms/{}", platform.id));
    Ok(platform)
}

/// Archives or restores a platform.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn archive_platform(id: String, version: String, archive: bool) -> UiResult<Platform> {
    let (pool, caller) = ssr::context()?;
    let (id, version) = (ssr::uuid("id", &id)?, ssr::number("version", &version)?);
    Ok(domain::platforms::set_archived(&pool, &caller, id, version, archive).await?)
}

/// Adds (no id) or edits an environment of a platform.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_environment(
    platform_id: String,
    id: Option<String>,
    version: Option<String>,
    slug: String,
    name: String,
    position: String,
    is_production: Option<String>,
) -> UiResult<Environment> {
    let (pool, caller) = ssr::context()?;
    let input = domain::model::EnvironmentInput {
        slug,
        name,
        position: ssr::number("position", &position)?,
        is_production: is_production.is_some_and(|v| v == "on" || v == "true"),
    };
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let env = match ssr::maybe_uuid("id", &id)? {
        None => domain::environments::create(&pool, &caller, platform_id, input).await?,
        Some(id) => {
            let version = ssr::number("version", version.as_deref().unwrap_or_default())?;
            domain::environments::update(&pool, &caller, id, version, input).await?
        }
    };
    leptos_axum::redirect(&format!("/platforms/{platform_id}"));
    Ok(env)
}

/// Archives or restores an environment.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn archive_environment(
    id: String,
    version: String,
    archive: bool,
) -> UiResult<Environment> {
    let (pool, caller) = ssr::context()?;
    let (id, version) = (ssr::uuid("id", &id)?, ssr::number("version", &version)?);
    Ok(domain::environments::set_archived(&pool, &caller, id, version, archive).await?)
}

/// Applications, filtered and paged.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn list_applications(
    q: Option<String>,
    team_id: Option<String>,
    include_archived: bool,
    page: u32,
) -> UiResult<Page<Application>> {
    let (pool, caller) = ssr::context()?;
    let query = domain::model::ListQuery {
        page,
        per_page: 50,
        include_archived,
        q,
    };
    let filter = domain::applications::Filter {
        team_id: ssr::maybe_uuid("team_id", &team_id)?,
        environment_id: None,
    };
    Ok(domain::applications::list(&pool, &caller, &query, &filter).await?)
}

/// Every page of a list, for a picker that must offer every choice.
#[cfg(feature = "ssr")]
async fn every_page<T, F>(mut list: impl FnMut(domain::model::ListQuery) -> F) -> UiResult<Vec<T>>
where
    F: std::future::Future<Output = domain::Result<Page<T>>>,
{
    let mut all = Vec::new();
    let mut query = domain::model::ListQuery {
        per_page: 200,
        ..Default::default()
    };
    loop {
        let page = list(query.clone()).await?;
        let last = page.items.is_empty() || query.page as i64 * query.per_page as i64 >= page.total;
        all.extend(page.items);
        if last {
            return Ok(all);
        }
        query.page += 1;
    }
}

#[cfg(feature = "ssr")]
async fn choices(pool: &domain::db::PgPool, caller: &domain::db::Caller) -> UiResult<AppChoices> {
    let teams = every_page(|q| async move { domain::teams::list(pool, caller, &q).await }).await?;
    let platforms =
        every_page(|q| async move { domain::platforms::list(pool, caller, &q).await }).await?;
    let environments = domain::environments::all(pool, caller)
        .await?
        .into_iter()
        .map(|e| {
            let name = platforms
                .iter()
                .find(|p| p.id == e.platform_id)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            (name, e)
        })
        .collect();
    Ok(AppChoices {
        teams,
        environments,
    })
}

/// Teams and environments for a new application's form.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn application_choices() -> UiResult<AppChoices> {
    let (pool, caller) = ssr::context()?;
    choices(&pool, &caller).await
}

/// An application with its form's choices.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_application(id: String) -> UiResult<ApplicationDetail> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let application = domain::applications::get(&pool, &caller, id).await?;
    let can_edit = caller.actor.may(domain::Action::ManageApplication {
        team: &application.team_slug,
    });
    let choices = choices(&pool, &caller).await?;
    Ok(ApplicationDetail {
        application,
        choices,
        can_edit,
    })
}

/// Creates (no id) or edits an application, then shows it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_application(
    id: Option<String>,
    version: Option<String>,
    team_id: String,
    slug: String,
    name: String,
    description: String,
    #[server(default)] placements: Vec<PlacementField>,
) -> UiResult<Application> {
    let (pool, caller) = ssr::context()?;
    let mut parsed = Vec::new();
    for field in placements {
        let environment_id = ssr::uuid("placements", &field.environment_id)?;
        for namespace in field
            .namespaces
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            parsed.push(domain::model::Placement {
                environment_id,
                namespace: namespace.to_owned(),
            });
        }
    }
    let team_id = if team_id.trim().is_empty() {
        return Err(domain::Error::invalid("team_id", "is required").into());
    } else {
        ssr::uuid("team_id", &team_id)?
    };
    let input = domain::model::ApplicationInput {
        team_id,
        slug,
        name,
        description,
        placements: parsed,
    };
    let app = match ssr::maybe_uuid("id", &id)? {
        None => domain::applications::create(&pool, &caller, input).await?,
        Some(id) => {
            let version = ssr::number("version", version.as_deref().unwrap_or_default())?;
            domain::applications::update(&pool, &caller, id, version, input).await?
        }
    };
    leptos_axum::redirect(&format!("/applications/{}", app.id));
    Ok(app)
}

/// Archives or restores an application.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn archive_application(
    id: String,
    version: String,
    archive: bool,
) -> UiResult<Application> {
    let (pool, caller) = ssr::context()?;
    let (id, version) = (ssr::uuid("id", &id)?, ssr::number("version", &version)?);
    Ok(domain::applications::set_archived(&pool, &caller, id, version, archive).await?)
}

/// The audit log with filters; `since` and `until` are days (`YYYY-MM-DD`, UTC), both included.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn audit_log(
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before_id: Option<i64>,
) -> UiResult<Vec<AuditEntry>> {
    let (pool, caller) = ssr::context()?;
    // The start of the day (`since`) or of the day after (`until`), in UTC.
    let day = |field: &str, value: Option<String>, days_after: i64| {
        Ok::<_, UiError>(
            ssr::optional_date(field, value.as_deref().unwrap_or_default())?.map(|d| {
                (d + chrono::Duration::days(days_after))
                    .and_time(chrono::NaiveTime::MIN)
                    .and_utc()
            }),
        )
    };
    let query = domain::model::AuditQuery {
        entity_type,
        entity_id: entity_id.map(|id| id.trim().to_owned()),
        actor,
        action,
        since: day("since", since, 0)?,
        until: day("until", until, 1)?,
        before_id,
        limit: Some(100),
    };
    Ok(domain::audit::list(&pool, &caller, &query).await?)
}

/// The entity types and actions the audit log holds (the page's filter choices).
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn audit_facets() -> UiResult<domain::model::AuditFacets> {
    let (pool, caller) = ssr::context()?;
    Ok(domain::audit::facets(&pool, &caller).await?)
}

/// API tokens (never their secrets).
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn list_tokens() -> UiResult<Vec<ApiToken>> {
    let (pool, caller) = ssr::context()?;
    Ok(domain::tokens::list(&pool, &caller).await?)
}

/// Creates an API token; the secret is in the answer, once.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn create_token(
    name: String,
    scope: String,
    expires_in_days: String,
) -> UiResult<CreatedApiToken> {
    let (pool, caller) = ssr::context()?;
    let input = domain::model::ApiTokenInput {
        name,
        scope,
        expires_in_days: ssr::number("expires_in_days", &expires_in_days)?,
    };
    Ok(domain::tokens::create(&pool, &caller, input).await?)
}

/// Revokes an API token.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn revoke_token(id: String) -> UiResult<ApiToken> {
    let (pool, caller) = ssr::context()?;
    Ok(domain::tokens::revoke(&pool, &caller, ssr::uuid("id", &id)?).await?)
}

#[cfg(test)]
mod tests {
    use super::UiError;

    #[test]
    fn an_error_naming_its_form_is_still_the_domain_error_the_enhancer_reads() {
        for error in [
            domain::Error::invalid("note", "is needed"),
            domain::Error::Unavailable,
            domain::Error::Unauthenticated,
            domain::Error::Stale {
                message: "changed".into(),
            },
        ] {
            let named = UiError::from(error.clone()).in_form("replicas");
            let json = serde_json::to_string(&named).unwrap_or_default();
            assert!(json.contains(r#""form":"replicas""#), "{json}");
            // The enhancer reads the domain error; the page reads the whole.
            assert_eq!(
                serde_json::from_str::<domain::Error>(&json).ok(),
                Some(error.clone()),
                "{json}"
            );
            assert_eq!(serde_json::from_str::<UiError>(&json).ok(), Some(named));
            // Without a form, the answer is the domain error alone, as before.
            let plain = serde_json::to_string(&UiError::from(error.clone())).unwrap_or_default();
            assert_eq!(plain, serde_json::to_string(&error).unwrap_or_default());
        }
    }
}
