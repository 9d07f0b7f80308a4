//! Applications: owned by a team, placed in namespaces per environment.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{
    AppChoices, ArchiveApplication, SaveApplication, application_choices, list_applications,
    load_application,
};
use crate::components::{ErrorBox, PostForm, TextArea, TextField, field_error, urlencode};
use domain::model::Application;

/// `/applications`
#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q");
    let team = move || query.read().get("team_id").filter(|t| !t.is_empty());
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(1)
    };
    let archived = move || query.read().get("archived").is_some();
    let data = Resource::new(
        move || (q(), team(), archived(), page()),
        |(q, team, archived, page)| list_applications(q, team, archived, page),
    );
    view! {
        <Title text="Applications"/>
        <div class="page-head">
            <h1>"Applications"</h1>
            <a class="button" href="/applications/new">"Register an application"</a>
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
                    Ok(p) if p.items.is_empty() => view! { <p class="empty">"No applications match."</p> }.into_any(),
                    Ok(p) => {
                        let pages = p.pages();
                        let current = p.page;
                        let link = move |n: u32| {
                            let mut url = format!("/applications?page={n}");
                            if let Some(q) = q() { url.push_str(&format!("&q={}", urlencode(&q))); }
                            if let Some(t) = team() { url.push_str(&format!("&team_id={t}")); }
                            url
                        };
                        view! {
                            <table>
                                <thead><tr><th>"Application"</th><th>"Team"</th><th>"Namespaces"</th><th>"State"</th></tr></thead>
                                <tbody>
                                    {p.items.into_iter().map(|a| view! {
                                        <tr>
                                            <td><a href=format!("/applications/{}", a.id)>{a.name}</a></td>
                                            <td><a href=format!("/teams/{}", a.team_id)>{a.team_slug}</a></td>
                                            <td>{a.placements.iter().map(|p| p.namespace.clone()).collect::<Vec<_>>().join(", ")}</td>
                                            <td>{if a.archived_at.is_some() { "archived" } else { "active" }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                <span>{format!("{} applications · page {current} of {pages}", p.total)}</span>
                                {(current > 1).then(|| view! { <a href=link(current - 1)>"Previous"</a> })}
                                {(current < pages).then(|| view! { <a href=link(current + 1)>"Next"</a> })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ApplicationForm(
    choices: AppChoices,
    #[prop(optional)] app: Option<Application>,
) -> impl IntoView {
    let editing = app.is_some();
    let app_team = app.as_ref().map(|a| a.team_id);
    let placements = app
        .as_ref()
        .map(|a| a.placements.clone())
        .unwrap_or_default();
    view! {
        <PostForm action=SaveApplication::url()>
            <input type="hidden" name="id" value=app.as_ref().map(|a| a.id.to_string()).unwrap_or_default()/>
            <input type="hidden" name="version" value=app.as_ref().map(|a| a.version.to_string()).unwrap_or_default()/>
            <div class="field" class:invalid=field_error("team_id").is_some()>
                <label for="field-team_id">"Owning team"</label>
                <select id="field-team_id" name="team_id" required=true aria-describedby="field-team_id-error">
                    <option value="">"Choose a team"</option>
                    {choices.teams.into_iter().map(|t| {
                        let selected = app_team == Some(t.id);
                        view! { <option value=t.id.to_string() selected=selected>{t.name}</option> }
                    }).collect_view()}
                </select>
                <p class="field-error" id="field-team_id-error">{field_error("team_id")}</p>
            </div>
            <TextField label="Slug" name="slug" value=app.as_ref().map(|a| a.slug.clone()).unwrap_or_default()
                required=true hint="Lowercase letters, digits and dashes."/>
            <TextField label="Name" name="name" value=app.as_ref().map(|a| a.name.clone()).unwrap_or_default()
                required=true/>
            <TextArea label="Description" name="description" value=app.as_ref().map(|a| a.description.clone()).unwrap_or_default()/>
            <fieldset>
                <legend>"Namespaces per environment"</legend>
                <p class="hint">"Separate several namespaces with commas. Leave empty where the application does not run."</p>
                {choices.environments.into_iter().enumerate().map(|(i, (platform, env))| {
                    let value = placements.iter().filter(|p| p.environment_id == env.id)
                        .map(|p| p.namespace.clone()).collect::<Vec<_>>().join(", ");
                    let id = format!("field-ns-{i}");
                    view! {
                        <div class="field">
                            <input type="hidden" name=format!("placements[{i}][environment_id]") value=env.id.to_string()/>
                            <label for=id.clone()>{format!("{platform} · {}", env.name)}</label>
                            <input id=id name=format!("placements[{i}][namespaces]") value=value/>
                        </div>
                    }
                }).collect_view()}
                <p class="field-error">{field_error("placements")}</p>
            </fieldset>
            <button type="submit" class="primary" id="save">{if editing { "Save changes" } else { "Register application" }}</button>
        </PostForm>
    }
}

/// `/applications/new`
#[component]
pub fn NewApplicationPage() -> impl IntoView {
    let choices = Resource::new(|| (), |_| application_choices());
    view! {
        <Title text="Register an application"/>
        <h1>"Register an application"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(c) => view! { <ApplicationForm choices=c/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/applications/:id`
#[component]
pub fn ApplicationPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_application,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Application"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => {
                        let a = d.application;
                        let archived = a.archived_at.is_some();
                        let env_name = {
                            let envs = d.choices.environments.clone();
                            move |id| envs.iter().find(|(_, e)| e.id == id).map(|(p, e)| format!("{p} · {}", e.name)).unwrap_or_else(|| "archived environment".into())
                        };
                        view! {
                            <Title text=a.name.clone()/>
                            <h1>{a.name.clone()}{archived.then(|| view! { <span class="badge">"archived"</span> })}</h1>
                            <p>{a.description.clone()}</p>
                            <dl class="facts">
                                <dt>"Owning team"</dt><dd><a href=format!("/teams/{}", a.team_id)>{a.team_slug.clone()}</a></dd>
                                <dt>"Slug"</dt><dd><code>{a.slug.clone()}</code></dd>
                            </dl>
                            <h2>"Where it runs"</h2>
                            {if a.placements.is_empty() {
                                view! { <p class="empty">"No namespaces recorded yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul>{a.placements.iter().map(|p| view! {
                                        <li>{env_name(p.environment_id)}": "<code>{p.namespace.clone()}</code></li>
                                    }).collect_view()}</ul>
                                }.into_any()
                            }}
                            {d.can_edit.then(|| view! {
                                <section class="edit no-print">
                                    <h2>"Edit"</h2>
                                    <ApplicationForm choices=d.choices.clone() app=a.clone()/>
                                    <PostForm action=ArchiveApplication::url()>
                                        <input type="hidden" name="id" value=a.id.to_string()/>
                                        <input type="hidden" name="version" value=a.version.to_string()/>
                                        <input type="hidden" name="archive" value=(!archived).to_string()/>
                                        <button type="submit" class="secondary">
                                            {if archived { "Restore application" } else { "Archive application" }}
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
