//! Server functions of the go-live pages. Thin like the rest: parse the form, call
//! `domain::golive`, return its answer. The domain authorizes and validates; the `can_*` flags
//! below only decide which buttons a page offers.
// A server function takes one argument per form field, so the forms with many fields have many.
#![allow(clippy::too_many_arguments)]

use chrono::{DateTime, Utc};
use domain::golive::model::{
    BoardRow, ChecklistTemplate, ClusterConnection, ConnectionTest, FrozenReview, Review,
    ReviewItem, TeamWebhook, VerificationRun, Waiver,
};
use domain::model::{Environment, Platform, Team};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::UiResult;
#[cfg(feature = "ssr")]
use super::ssr;

/// One row of the board, with whether the signed-in person may open its review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardEntry {
    pub row: BoardRow,
    pub can_open: bool,
}

/// What the board shows, and what its filters offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardData {
    pub entries: Vec<BoardEntry>,
    pub platforms: Vec<Platform>,
    pub teams: Vec<Team>,
}

/// What a review's page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewPageData {
    pub review: Review,
    pub runs: Vec<VerificationRun>,
    /// The time the page was read, for waiver expiry.
    pub now: DateTime<Utc>,
    /// Attest items, start verifications, upload evidence (team members and platform staff).
    pub can_work: bool,
    /// Waive items, revoke waivers, sign off for the platform (platform staff).
    pub can_manage: bool,
    /// Sign off for the application's team (its members).
    pub can_sign_for_team: bool,
}

/// What the frozen evidence page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenPageData {
    pub review: Review,
    pub frozen: FrozenReview,
}

/// What a platform's checklist page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistPageData {
    pub platform: Platform,
    pub template: ChecklistTemplate,
    /// Earlier versions, newest first (without the items, which the page does not show).
    pub versions: Vec<ChecklistTemplate>,
    /// Environment slugs of the platform, offered for an item's environments.
    pub environments: Vec<String>,
    pub can_edit: bool,
}

/// One environment and how Demarc reaches its cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentCluster {
    pub environment: Environment,
    pub connection: Option<ClusterConnection>,
}

/// A platform's environments and their connections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformClusters {
    pub platform: Platform,
    pub environments: Vec<EnvironmentCluster>,
}

/// A team the signed-in person may set webhooks for, with its webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamHooks {
    pub team: Team,
    pub webhooks: Vec<TeamWebhook>,
}

/// What the clusters page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClustersPageData {
    pub platforms: Vec<PlatformClusters>,
    pub teams: Vec<TeamHooks>,
    pub can_manage: bool,
}

/// The go-live board, by platform and team.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_board(platform_id: Option<String>, team: Option<String>) -> UiResult<BoardData> {
    let (pool, caller) = ssr::context()?;
    let filter = domain::golive::store::BoardFilter {
        platform_id: ssr::maybe_uuid("platform_id", &platform_id)?,
        team: team.filter(|t| !t.trim().is_empty()),
    };
    let rows = domain::golive::store::board(&pool, &caller, &filter, ssr::now()?).await?;
    let entries = rows
        .into_iter()
        .map(|row| BoardEntry {
            can_open: row.review_id.is_none()
                && caller.actor.may(domain::Action::WorkOnGoLive {
                    team: &row.team_slug,
                }),
            row,
        })
        .collect();
    Ok(BoardData {
        entries,
        platforms: domain::platforms::list(&pool, &caller, &ssr::every())
            .await?
            .items,
        teams: domain::teams::list(&pool, &caller, &ssr::every())
            .await?
            .items,
    })
}

/// What needs attention after go-live (the dashboard's go-live part).
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_golive_attention() -> UiResult<domain::golive::model::GoLiveAttention> {
    use domain::golive::model::GoLiveAttention;
    let (pool, caller) = ssr::context()?;
    caller.actor.authorize(domain::Action::Read)?;
    let now = ssr::now()?;
    // An application team's members see their own teams' applications, read for them alone;
    // platform staff and auditors see every team's, the same for all of them: computed once per
    // data version and minute (a run that finds drift does not move the data version, so it
    // shows within a minute).
    let actor = &caller.actor;
    if actor.roles.is_empty() {
        return Ok(
            domain::golive::store::attention(&pool, &caller, now, Some(&actor.teams)).await?,
        );
    }
    let cache = ssr::cache()?;
    let key = (cache.version(&pool).await?, now.timestamp().div_euclid(60));
    let shared = match cache.memo::<GoLiveAttention>("golive-attention", key) {
        Some(a) => a,
        None => {
            let a = domain::golive::store::attention(&pool, &caller, now, None).await?;
            let a = std::sync::Arc::new(a);
            cache.put_memo("golive-attention", key, a.clone());
            a
        }
    };
    Ok((*shared).clone())
}

/// Opens the review of an application on an environment, then shows it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn open_review(application_id: String, environment_id: String) -> UiResult<Review> {
    let (pool, caller) = ssr::context()?;
    let review = domain::golive::store::open_review(
        &pool,
        &caller,
        ssr::uuid("application_id", &application_id)?,
        ssr::uuid("environment_id", &environment_id)?,
        ssr::now()?,
    )
    .await?;
    leptos_axum::redirect(&format!("/golive/reviews/{}", review.id));
    Ok(review)
}

/// A review with its runs and what the signed-in person may do with it.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_review(id: String) -> UiResult<ReviewPageData> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let now = ssr::now()?;
    let review = domain::golive::store::review(&pool, &caller, id, now).await?;
    let runs = domain::golive::runs::runs(&pool, &caller, id).await?;
    let team = review.context.team_slug.as_str();
    Ok(ReviewPageData {
        can_work: caller.actor.may(domain::Action::WorkOnGoLive { team }),
        can_manage: caller.actor.may(domain::Action::ManageGoLive),
        can_sign_for_team: caller.actor.may(domain::Action::SignOffForTeam { team }),
        review,
        runs,
        now,
    })
}

/// One verification run, for the live progress view.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_run(id: String) -> UiResult<VerificationRun> {
    let (pool, caller) = ssr::context()?;
    Ok(domain::golive::runs::run(&pool, &caller, ssr::uuid("id", &id)?).await?)
}

/// Queues a verification against the environment's cluster and shows its progress.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn request_run(review_id: String) -> UiResult<VerificationRun> {
    let (pool, caller) = ssr::context()?;
    let review_id = ssr::uuid("review_id", &review_id)?;
    let run =
        domain::golive::runs::request(&pool, &caller, review_id, "manual", ssr::now()?).await?;
    leptos_axum::redirect(&format!(
        "/golive/reviews/{review_id}?run={}#verification",
        run.id
    ));
    Ok(run)
}

/// Verifies a review from pasted `kubectl get -o json` output (a List) or YAML manifests.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn upload_run(
    review_id: String,
    file_name: String,
    text: String,
) -> UiResult<VerificationRun> {
    let (pool, caller) = ssr::context()?;
    let review_id = ssr::uuid("review_id", &review_id)?;
    if text.trim().is_empty() {
        return Err(domain::Error::invalid(
            "text",
            "Paste the output of kubectl get … -o json, or YAML manifests.",
        )
        .into());
    }
    let name = match file_name.trim() {
        "" => "pasted.json",
        name => name,
    };
    // The domain names the uploaded file `file`; here it is the pasted text.
    let run = domain::golive::runs::upload(&pool, &caller, review_id, name, text, ssr::now()?)
        .await
        .map_err(|e| match e {
            domain::Error::Invalid { mut fields } => {
                if let Some(message) = fields.remove("file") {
                    fields.insert("text".into(), message);
                }
                domain::Error::Invalid { fields }
            }
            other => other,
        })?;
    leptos_axum::redirect(&format!(
        "/golive/reviews/{review_id}?run={}#verification",
        run.id
    ));
    Ok(run)
}

/// Records a person's answer for an item (or a not-applicable decision with its reason).
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn attest_item(
    review_id: String,
    key: String,
    version: String,
    status: String,
    #[server(default)] note: String,
    #[server(default)] link: String,
) -> UiResult<ReviewItem> {
    let attested: UiResult<ReviewItem> = async {
        let (pool, caller) = ssr::context()?;
        let review_id = ssr::uuid("review_id", &review_id)?;
        let input = domain::golive::model::AttestInput {
            status,
            note,
            link,
            file_id: None,
            version: ssr::number("version", &version)?,
        };
        let item =
            domain::golive::store::attest(&pool, &caller, review_id, &key, input, ssr::now()?)
                .await?;
        leptos_axum::redirect(&format!("/golive/reviews/{review_id}#item-{key}"));
        Ok(item)
    }
    .await;
    attested.map_err(|e| e.in_form(&key))
}

/// Waives an item until the end of a date (UTC).
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn waive_item(
    review_id: String,
    key: String,
    reason: String,
    expires_at: String,
) -> UiResult<Waiver> {
    let waived: UiResult<Waiver> = async {
        let (pool, caller) = ssr::context()?;
        let review_id = ssr::uuid("review_id", &review_id)?;
        let expires_at = match expires_at.trim() {
            "" => None,
            date => Some(
                chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
                    .map_err(|_| {
                        domain::Error::invalid("expires_at", "must be a date such as 2026-03-31")
                    })?
                    .and_hms_opt(23, 59, 59)
                    .map(|t| t.and_utc())
                    .ok_or_else(|| domain::Error::invalid("expires_at", "is not a valid date"))?,
            ),
        };
        let input = domain::golive::model::WaiverInput { reason, expires_at };
        let waiver =
            domain::golive::store::waive(&pool, &caller, review_id, &key, input, ssr::now()?)
                .await?;
        leptos_axum::redirect(&format!("/golive/reviews/{review_id}#item-{key}"));
        Ok(waiver)
    }
    .await;
    waived.map_err(|e| e.in_form(&key))
}

/// Ends a waiver before its expiry.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn revoke_waiver(review_id: String, waiver_id: String) -> UiResult<Waiver> {
    let revoked: UiResult<Waiver> = async {
        let (pool, caller) = ssr::context()?;
        let review_id = ssr::uuid("review_id", &review_id)?;
        let waiver = domain::golive::store::revoke_waiver(
            &pool,
            &caller,
            ssr::uuid("waiver_id", &waiver_id)?,
            ssr::now()?,
        )
        .await?;
        leptos_axum::redirect(&format!(
            "/golive/reviews/{review_id}#item-{}",
            waiver.item_key
        ));
        Ok(waiver)
    }
    .await;
    revoked.map_err(|e| e.in_form(&waiver_id))
}

/// Signs a review off for the team or the platform.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn sign_off(review_id: String, side: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    let review_id = ssr::uuid("review_id", &review_id)?;
    let side = domain::golive::model::SignoffSide::parse(side.trim())
        .ok_or_else(|| domain::Error::invalid("side", "Choose team or platform."))?;
    domain::golive::store::sign_off(&pool, &caller, review_id, side, ssr::now()?).await?;
    leptos_axum::redirect(&format!("/golive/reviews/{review_id}"));
    Ok(())
}

/// Withdraws an open review; it stays in history.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn withdraw_review(review_id: String, version: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    let review_id = ssr::uuid("review_id", &review_id)?;
    let version = ssr::number("version", &version)?;
    domain::golive::store::withdraw_review(&pool, &caller, review_id, version).await?;
    leptos_axum::redirect("/golive");
    Ok(())
}

/// A review and the evidence frozen when it was signed off.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_frozen(id: String) -> UiResult<FrozenPageData> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &id)?;
    let frozen = domain::golive::store::frozen(&pool, &caller, id).await?;
    let review = domain::golive::store::review(&pool, &caller, id, ssr::now()?).await?;
    Ok(FrozenPageData { review, frozen })
}

/// A platform's checklist template and its earlier versions.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_checklist(platform_id: String) -> UiResult<ChecklistPageData> {
    let (pool, caller) = ssr::context()?;
    let id = ssr::uuid("id", &platform_id)?;
    let platform = domain::platforms::get(&pool, &caller, id).await?;
    let template = domain::golive::store::template(&pool, &caller, id).await?;
    let versions = domain::golive::store::template_versions(&pool, &caller, id)
        .await?
        .into_iter()
        .map(|mut v| {
            v.items.clear();
            v
        })
        .collect();
    let environments = domain::environments::list(&pool, &caller, id, false)
        .await?
        .into_iter()
        .map(|e| e.slug)
        .collect();
    Ok(ChecklistPageData {
        platform,
        template,
        versions,
        environments,
        can_edit: caller.actor.may(domain::Action::ManageGoLive),
    })
}

/// Adds (`index` = the number of items) or replaces (`index` of an item) one checklist item and
/// saves the whole list as the template's next version. Errors come back keyed `items[n].field`.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_checklist_item(
    platform_id: String,
    base_version: String,
    index: String,
    key: String,
    title: String,
    #[server(default)] why: String,
    #[server(default)] how_to_check: String,
    #[server(default)] desired: String,
    #[server(default)] how_to_fix: String,
    required: Option<String>,
    #[server(default)] environments: String,
    #[server(default)] check: String,
    #[server(default)] params: String,
    #[server(default)] note: String,
) -> UiResult<ChecklistTemplate> {
    use domain::golive::model::{CheckId, Params};
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let base_version: i32 = ssr::number("base_version", &base_version)?;
    let index: usize = ssr::number("index", &index)?;
    let field = |name: &str| format!("items[{index}].{name}");
    let check = match check.trim() {
        "" => None,
        id => Some(
            CheckId::parse(id)
                .ok_or_else(|| domain::Error::invalid(&field("check"), "is not a known check"))?,
        ),
    };
    let params: Params = match params.trim() {
        "" => Params::default(),
        text => serde_json::from_str(text).map_err(|e| {
            domain::Error::invalid(&field("params"), format!("is not valid parameters: {e}"))
        })?,
    };
    let item = domain::golive::model::ItemDef {
        key,
        title,
        why,
        how_to_check,
        desired,
        how_to_fix,
        required: ssr::checked(&required),
        environments: environments
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
        check,
        params,
    };
    let mut items = domain::golive::store::template(&pool, &caller, platform_id)
        .await?
        .items;
    let what = if index < items.len() {
        let what = format!("Edited item {}.", item.key.trim());
        items[index] = item;
        what
    } else {
        let what = format!("Added item {}.", item.key.trim());
        items.push(item);
        what
    };
    let input = domain::golive::model::TemplateInput {
        items,
        note: if note.trim().is_empty() { what } else { note },
        base_version,
    };
    let saved = domain::golive::store::save_template(&pool, &caller, platform_id, input).await?;
    leptos_axum::redirect(&format!("/platforms/{platform_id}/checklist"));
    Ok(saved)
}

/// Removes an item from the checklist and saves the rest as the next version.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn remove_checklist_item(
    platform_id: String,
    base_version: String,
    key: String,
) -> UiResult<ChecklistTemplate> {
    let (pool, caller) = ssr::context()?;
    let platform_id = ssr::uuid("platform_id", &platform_id)?;
    let base_version: i32 = ssr::number("base_version", &base_version)?;
    let mut items = domain::golive::store::template(&pool, &caller, platform_id)
        .await?
        .items;
    let before = items.len();
    items.retain(|i| i.key != key);
    if items.len() == before {
        return Err(domain::Error::not_found("checklist item").into());
    }
    let input = domain::golive::model::TemplateInput {
        items,
        note: format!("Removed item {key}."),
        base_version,
    };
    let saved = domain::golive::store::save_template(&pool, &caller, platform_id, input).await?;
    leptos_axum::redirect(&format!("/platforms/{platform_id}/checklist"));
    Ok(saved)
}

/// Every platform's environments with their cluster connections, and the teams whose webhooks
/// the signed-in person may set.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn load_clusters() -> UiResult<ClustersPageData> {
    let (pool, caller) = ssr::context()?;
    let platforms = domain::platforms::list(&pool, &caller, &ssr::every())
        .await?
        .items;
    let mut out = Vec::with_capacity(platforms.len());
    for platform in platforms {
        let mut environments = Vec::new();
        for environment in domain::environments::list(&pool, &caller, platform.id, false).await? {
            let connection =
                domain::golive::connections::get(&pool, &caller, environment.id).await?;
            environments.push(EnvironmentCluster {
                environment,
                connection,
            });
        }
        out.push(PlatformClusters {
            platform,
            environments,
        });
    }
    let mut teams = Vec::new();
    for team in domain::teams::list(&pool, &caller, &ssr::every())
        .await?
        .items
    {
        if caller
            .actor
            .may(domain::Action::WorkOnGoLive { team: &team.slug })
        {
            let webhooks = domain::golive::notify::webhooks(&pool, &caller, team.id).await?;
            teams.push(TeamHooks { team, webhooks });
        }
    }
    Ok(ClustersPageData {
        platforms: out,
        teams,
        can_manage: caller.actor.may(domain::Action::ManageGoLive),
    })
}

/// Sets an environment's cluster connection. An empty secret keeps the stored one.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn save_connection(
    environment_id: String,
    version: String,
    mode: String,
    #[server(default)] server_url: String,
    #[server(default)] context: String,
    #[server(default)] ca_pem: String,
    #[server(default)] secret: String,
    #[server(default)] verify_every_minutes: String,
) -> UiResult<ClusterConnection> {
    let (pool, caller) = ssr::context()?;
    let environment_id = ssr::uuid("environment_id", &environment_id)?;
    let input = domain::golive::model::ConnectionInput {
        mode,
        server_url,
        context,
        ca_pem,
        secret,
        verify_every_minutes: match verify_every_minutes.trim() {
            "" => None,
            n => Some(ssr::number("verify_every_minutes", n)?),
        },
        version: if version.trim().is_empty() {
            0
        } else {
            ssr::number("version", &version)?
        },
    };
    let connection = domain::golive::connections::set(
        &pool,
        &caller,
        ssr::secrets()?.as_ref(),
        environment_id,
        input,
    )
    .await?;
    leptos_axum::redirect(&format!("/golive/clusters#env-{environment_id}"));
    Ok(connection)
}

/// Tests an environment's connection; the answer is also kept on the connection.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn test_connection(environment_id: String) -> UiResult<ConnectionTest> {
    let (pool, caller) = ssr::context()?;
    let environment_id = ssr::uuid("environment_id", &environment_id)?;
    let test = domain::golive::connections::test(
        &pool,
        &caller,
        ssr::secrets()?.as_ref(),
        environment_id,
        ssr::now()?,
    )
    .await?;
    leptos_axum::redirect(&format!("/golive/clusters#env-{environment_id}"));
    Ok(test)
}

/// Removes an environment's cluster connection.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn remove_connection(environment_id: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    let environment_id = ssr::uuid("environment_id", &environment_id)?;
    domain::golive::connections::remove(&pool, &caller, environment_id).await?;
    leptos_axum::redirect(&format!("/golive/clusters#env-{environment_id}"));
    Ok(())
}

/// Adds a notification webhook to a team.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn add_webhook(team_id: String, url: String, format: String) -> UiResult<TeamWebhook> {
    let (pool, caller) = ssr::context()?;
    let team_id = ssr::uuid("team_id", &team_id)?;
    let input = domain::golive::model::WebhookInput { url, format };
    let hook = domain::golive::notify::add_webhook(
        &pool,
        &caller,
        ssr::secrets()?.as_ref(),
        ssr::egress()?.as_ref(),
        team_id,
        input,
    )
    .await?;
    leptos_axum::redirect("/golive/clusters#team-webhooks");
    Ok(hook)
}

/// Removes a team's webhook.
#[server(prefix = "/_fn", output = crate::api::Answer)]
pub async fn remove_webhook(id: String) -> UiResult<()> {
    let (pool, caller) = ssr::context()?;
    domain::golive::notify::remove_webhook(&pool, &caller, ssr::uuid("id", &id)?, ssr::now()?)
        .await?;
    leptos_axum::redirect("/golive/clusters#team-webhooks");
    Ok(())
}
