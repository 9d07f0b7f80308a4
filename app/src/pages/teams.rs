//! Teams: list, create, view and edit, archive.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{ArchiveTeam, SaveTeam, list_teams, load_team};
use crate::components::{ErrorBox, PostForm, TextArea, TextField, use_me, when};
use domain::model::{Delivery, DeliveryState, Page};

const SLUG_HINT: &str =
    "Lowercase letters, digits and dashes. Team members come from the group team-<slug>.";

/// `/teams`
#[component]
pub fn TeamsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q");
    let archived = move || query.read().get("archived").is_some();
    let data = Resource::new(
        move || (q(), archived()),
        |(q, archived)| list_teams(q, archived, 1),
    );
    let me = use_me();
    view! {
        <Title text="Teams"/>
        <div class="page-head">
            <h1>"Teams"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    matches!(me.await, Ok(Some(ref m)) if m.manages_platform)
                        .then(|| view! { <a class="button" href="/teams/new">"New team"</a> })
                })}
            </Suspense>
        </div>
        <form method="get" class="filters" role="search">
            <label for="q">"Search"</label>
            <input id="q" name="q" type="search" value=q/>
            <label><input type="checkbox" name="archived" checked=archived/>" Show archived"</label>
            <button type="submit">"Filter"</button>
        </form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p class="empty">"No teams match."</p> }.into_any(),
                    Ok(page) => view! {
                        <table>
                            <thead><tr><th>"Team"</th><th>"Slug"</th><th>"Contact"</th><th>"State"</th></tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|t| view! {
                                    <tr>
                                        <td><a href=format!("/teams/{}", t.id)>{t.name}</a></td>
                                        <td><code>{t.slug}</code></td>
                                        <td>{t.contact}</td>
                                        <td>{if t.archived_at.is_some() { "archived" } else { "active" }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <p class="muted">{page.total}" teams"</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The create/edit form.
#[component]
fn TeamForm(
    #[prop(optional)] id: Option<String>,
    #[prop(optional)] version: Option<i32>,
    #[prop(optional)] slug: String,
    #[prop(optional)] name: String,
    #[prop(optional)] description: String,
    #[prop(optional)] contact: String,
) -> impl IntoView {
    let label = if id.is_some() {
        "Save changes"
    } else {
        "Create team"
    };
    view! {
        <PostForm action=SaveTeam::url()>
            <input type="hidden" name="id" value=id.unwrap_or_default()/>
            <input type="hidden" name="version" value=version.map(|v| v.to_string()).unwrap_or_default()/>
            <TextField label="Slug" name="slug" value=slug required=true hint=SLUG_HINT/>
            <TextField label="Name" name="name" value=name required=true/>
            <TextField label="Contact" name="contact" value=contact hint="Chat channel, e-mail or on-call alias."/>
            <TextArea label="Description" name="description" value=description/>
            <button type="submit" class="primary" id="save">{label}</button>
        </PostForm>
    }
}

/// `/teams/new`
#[component]
pub fn NewTeamPage() -> impl IntoView {
    view! {
        <Title text="New team"/>
        <h1>"New team"</h1>
        <TeamForm/>
    }
}

/// `/teams/:id`
#[component]
pub fn TeamPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                query.read().get("deliveries"),
            )
        },
        |(id, deliveries)| load_team(id, deliveries),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Team"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => {
                        let t = d.team;
                        let archived = t.archived_at.is_some();
                        view! {
                            <Title text=t.name.clone()/>
                            <div class="page-head">
                                <h1>{t.name.clone()}{archived.then(|| view! { <span class="badge">"archived"</span> })}</h1>
                            </div>
                            <p>{t.description.clone()}</p>
                            <dl class="facts">
                                <dt>"Slug"</dt><dd><code>{t.slug.clone()}</code></dd>
                                <dt>"Contact"</dt><dd>{t.contact.clone()}</dd>
                                <dt>"Group"</dt><dd><code>{format!("team-{}", t.slug)}</code></dd>
                            </dl>
                            <h2>"Applications"</h2>
                            {if d.applications.is_empty() {
                                view! { <p class="empty">"This team has no applications yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul>
                                        {d.applications.into_iter().map(|a| view! {
                                            <li><a href=format!("/applications/{}", a.id)>{a.name}</a></li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                            {deliveries_section(t.id, d.deliveries)}
                            {d.can_edit.then(|| view! {
                                <section class="edit no-print">
                                    <h2>"Edit"</h2>
                                    <TeamForm id=t.id.to_string() version=t.version slug=t.slug.clone()
                                        name=t.name.clone() description=t.description.clone() contact=t.contact.clone()/>
                                    <PostForm action=ArchiveTeam::url()>
                                        <input type="hidden" name="id" value=t.id.to_string()/>
                                        <input type="hidden" name="version" value=t.version.to_string()/>
                                        <input type="hidden" name="archive" value=(!archived).to_string()/>
                                        <button type="submit" class="secondary">
                                            {if archived { "Restore team" } else { "Archive team" }}
                                        </button>
                                    </PostForm>
                                </section>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// What Demarc sent to the team's channels and how each delivery went, newest first.
fn deliveries_section(team_id: uuid::Uuid, page: Page<Delivery>) -> impl IntoView {
    let pages = page.pages();
    let current = page.page;
    let link = move |n: u32| format!("/teams/{team_id}?deliveries={n}#deliveries");
    let rows = if page.items.is_empty() {
        view! { <p class="empty">"Nothing sent yet. Add a webhook (Go-live → Clusters) or an e-mail address (Calendar → Feeds) to hear about drift and maintenance."</p> }.into_any()
    } else {
        view! {
            <table class="deliveries">
                <thead><tr><th>"No."</th><th>"Queued"</th><th>"To"</th><th>"About"</th><th>"State"</th><th>"Attempts"</th></tr></thead>
                <tbody>
                    {page.items.into_iter().map(delivery_row).collect_view()}
                </tbody>
            </table>
            <nav class="pager" aria-label="Pages of the delivery log">
                <span>{format!("{} · page {current} of {pages}", if page.total == 1 { "1 delivery".to_owned() } else { format!("{} deliveries", page.total) })}</span>
                {(current > 1).then(|| view! { <a href=link(current - 1)>"Newer"</a> })}
                {(current < pages).then(|| view! { <a href=link(current + 1)>"Older"</a> })}
            </nav>
        }
        .into_any()
    };
    view! {
        <section id="deliveries" aria-labelledby="deliveries-heading">
            <h2 id="deliveries-heading">"Notifications sent"</h2>
            <p class="muted">"Drift, maintenance notices and end-of-life warnings sent to this team's webhooks and e-mail addresses. The number is in each webhook call's X-Demarc-Delivery header and each e-mail's Message-ID."</p>
            {rows}
        </section>
    }
}

fn delivery_row(d: Delivery) -> impl IntoView {
    let badge = match d.state {
        DeliveryState::Delivered => "badge outcome-pass",
        DeliveryState::Failed => "badge outcome-fail",
        DeliveryState::Retrying => "badge outcome-warn",
        DeliveryState::Pending | DeliveryState::Dropped => "badge",
    };
    let next = d
        .next_attempt_at
        .map(|at| view! { <br/><small>"next try "{when(at)}</small> });
    let attempts = (!d.attempts.is_empty()).then(|| {
        let count = d.attempts.len();
        view! {
            <details>
                <summary>{format!("{count} attempt{}", if count == 1 { "" } else { "s" })}</summary>
                <ol class="attempts">
                    {d.attempts.into_iter().map(|a| view! {
                        <li class:attempt-failed=!a.ok>
                            {when(a.at)}" · "
                            {match (a.ok, a.status_code, a.error) {
                                (true, Some(code), _) => format!("accepted ({code})"),
                                (true, None, _) => "accepted".to_owned(),
                                (false, _, Some(error)) => error,
                                (false, Some(code), None) => format!("refused ({code})"),
                                (false, None, None) => "failed".to_owned(),
                            }}
                        </li>
                    }).collect_view()}
                </ol>
            </details>
        }
    });
    view! {
        <tr class="delivery" data-delivery=d.id.to_string() data-state=format!("{:?}", d.state).to_lowercase()>
            <td>{d.id}</td>
            <td>{when(d.queued_at)}</td>
            <td>{if d.channel == "email" { "E-mail " } else { "Webhook " }}<code>{d.target}</code></td>
            <td>{d.about}</td>
            <td><span class=badge>{d.state.label()}</span>{next}</td>
            <td>{attempts}</td>
        </tr>
    }
}
