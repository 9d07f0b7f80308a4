//! Platforms and their ordered environments.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{
    ArchiveEnvironment, ArchivePlatform, SaveEnvironment, SavePlatform, list_platforms,
    load_platform,
};
use crate::components::{ErrorBox, PostForm, TextArea, TextField, use_me};
use domain::model::Environment;

/// `/platforms`
#[component]
pub fn PlatformsPage() -> impl IntoView {
    let query = use_query_map();
    let archived = move || query.read().get("archived").is_some();
    let data = Resource::new(archived, list_platforms);
    let me = use_me();
    view! {
        <Title text="Platforms"/>
        <div class="page-head">
            <h1>"Platforms"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    matches!(me.await, Ok(Some(ref m)) if m.manages_platform)
                        .then(|| view! { <a class="button" href="/platforms/new">"New platform"</a> })
                })}
            </Suspense>
        </div>
        <form method="get" class="filters">
            <label><input type="checkbox" name="archived" checked=archived/>" Show archived"</label>
            <button type="submit">"Filter"</button>
        </form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p class="empty">"No platforms yet."</p> }.into_any(),
                    Ok(page) => view! {
                        <ul class="tiles">
                            {page.items.into_iter().map(|p| view! {
                                <li>
                                    <a href=format!("/platforms/{}", p.id)><strong>{p.name}</strong></a>
                                    {p.archived_at.is_some().then(|| view! { <span class="badge">"archived"</span> })}
                                    <p>{p.description}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PlatformForm(
    #[prop(optional)] id: Option<String>,
    #[prop(optional)] version: Option<i32>,
    #[prop(optional)] slug: String,
    #[prop(optional)] name: String,
    #[prop(optional)] description: String,
) -> impl IntoView {
    let label = if id.is_some() {
        "Save changes"
    } else {
        "Create platform"
    };
    view! {
        <PostForm action=SavePlatform::url()>
            <input type="hidden" name="id" value=id.unwrap_or_default()/>
            <input type="hidden" name="version" value=version.map(|v| v.to_string()).unwrap_or_default()/>
            <TextField label="Slug" name="slug" value=slug required=true hint="Lowercase letters, digits and dashes."/>
            <TextField label="Name" name="name" value=name required=true/>
            <TextArea label="Description" name="description" value=description/>
            <button type="submit" class="primary">{label}</button>
        </PostForm>
    }
}

/// `/platforms/new`
#[component]
pub fn NewPlatformPage() -> impl IntoView {
    view! {
        <Title text="New platform"/>
        <h1>"New platform"</h1>
        <PlatformForm/>
    }
}

#[component]
fn EnvironmentForm(
    platform_id: String,
    #[prop(optional)] env: Option<Environment>,
    next_position: i32,
) -> impl IntoView {
    let editing = env.is_some();
    let (id, version, slug, name, position, production) = match env {
        Some(e) => (
            e.id.to_string(),
            e.version.to_string(),
            e.slug,
            e.name,
            e.position,
            e.is_production,
        ),
        None => (
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            next_position,
            false,
        ),
    };
    view! {
        <PostForm action=SaveEnvironment::url() class="inline-form">
            <input type="hidden" name="platform_id" value=platform_id/>
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="version" value=version/>
            <TextField label="Slug" name="slug" value=slug required=true/>
            <TextField label="Name" name="name" value=name required=true/>
            <TextField label="Order" name="position" value=position.to_string() input_type="number"
                hint="Lower numbers are updated first."/>
            <div class="field checkbox">
                <label><input type="checkbox" name="is_production" checked=production/>" Production"</label>
            </div>
            <button type="submit">{if editing { "Save" } else { "Add environment" }}</button>
        </PostForm>
    }
}

/// `/platforms/:id`
#[component]
pub fn PlatformPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_platform,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Platform"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => {
                        let p = d.platform;
                        let archived = p.archived_at.is_some();
                        let pid = p.id.to_string();
                        let next_position = d.environments.iter().map(|e| e.position + 1).max().unwrap_or(0);
                        let can_edit = d.can_edit;
                        view! {
                            <Title text=p.name.clone()/>
                            <h1>{p.name.clone()}{archived.then(|| view! { <span class="badge">"archived"</span> })}</h1>
                            <p>{p.description.clone()}</p>
                            <h2>"Environments"</h2>
                            <p class="muted">"In order: each environment receives changes before the ones below it."</p>
                            {if d.environments.is_empty() {
                                view! { <p class="empty">"No environments yet."</p> }.into_any()
                            } else {
                                view! {
                                    <table>
                                        <thead><tr><th>"Order"</th><th>"Environment"</th><th>"Slug"</th><th>"Kind"</th><th>"State"</th></tr></thead>
                                        <tbody>
                                            {d.environments.iter().cloned().map(|e| view! {
                                                <tr>
                                                    <td>{e.position}</td>
                                                    <td>{e.name}</td>
                                                    <td><code>{e.slug}</code></td>
                                                    <td>{if e.is_production { "production" } else { "non-production" }}</td>
                                                    <td>{if e.archived_at.is_some() { "archived" } else { "active" }}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            {can_edit.then(|| view! {
                                <section class="edit no-print">
                                    <h3>"Add an environment"</h3>
                                    <EnvironmentForm platform_id=pid.clone() next_position=next_position/>
                                    {d.environments.into_iter().map(|e| {
                                        let (eid, ev, earchived) = (e.id.to_string(), e.version.to_string(), e.archived_at.is_some());
                                        view! {
                                            <details>
                                                <summary>"Edit "{e.name.clone()}</summary>
                                                <EnvironmentForm platform_id=pid.clone() env=e next_position=0/>
                                                <PostForm action=ArchiveEnvironment::url()>
                                                    <input type="hidden" name="id" value=eid/>
                                                    <input type="hidden" name="version" value=ev/>
                                                    <input type="hidden" name="archive" value=(!earchived).to_string()/>
                                                    <button type="submit" class="secondary">
                                                        {if earchived { "Restore environment" } else { "Archive environment" }}
                                                    </button>
                                                </PostForm>
                                            </details>
                                        }
                                    }).collect_view()}
                                    <h2>"Edit platform"</h2>
                                    <PlatformForm id=pid.clone() version=p.version slug=p.slug.clone() name=p.name.clone()
                                        description=p.description.clone()/>
                                    <PostForm action=ArchivePlatform::url()>
                                        <input type="hidden" name="id" value=pid.clone()/>
                                        <input type="hidden" name="version" value=p.version.to_string()/>
                                        <input type="hidden" name="archive" value=(!archived).to_string()/>
                                        <button type="submit" class="secondary">
                                            {if archived { "Restore platform" } else { "Archive platform" }}
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
