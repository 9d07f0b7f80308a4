//! How Demarc reaches each environment's cluster (set and tested by platform staff), and the
//! teams' webhooks that hear about drift.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::golive::{
    AddWebhook, ClustersPageData, EnvironmentCluster, RemoveConnection, RemoveWebhook,
    SaveConnection, TeamHooks, TestConnection, load_clusters,
};
use crate::components::{ErrorBox, PostForm, TextArea, TextField, field_error, when};
use domain::golive::model::ClusterConnection;
use domain::model::Platform;

const MODES: [(&str, &str); 3] = [
    ("in_cluster", "In the cluster: Demarc's own service account"),
    ("kubeconfig", "A kubeconfig file"),
    ("token", "API server address and a service account token"),
];

fn mode_label(mode: &str) -> &'static str {
    MODES
        .iter()
        .find(|(m, _)| *m == mode)
        .map(|(_, l)| *l)
        .unwrap_or("Unknown")
}

/// `/golive/clusters`
#[component]
pub fn ClustersPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_clusters());
    view! {
        <Title text="Clusters"/>
        <div class="page-head">
            <h1>"Clusters"</h1>
            <div class="actions no-print">
                <a class="button secondary" href="/golive">"Go-live board"</a>
            </div>
        </div>
        <p class="muted">"How Demarc reads each environment's cluster to verify go-live reviews. Credentials are stored encrypted and never shown again; Demarc only reads."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => clusters_view(d).into_any(),
                }
            })}
        </Suspense>
    }
}

fn clusters_view(d: ClustersPageData) -> impl IntoView {
    let can_manage = d.can_manage;
    view! {
        {(!can_manage).then(|| view! {
            <p class="alert alert-info">"Platform engineers set and test the connections; you can read them."</p>
        })}
        {if d.platforms.is_empty() {
            view! { <p class="empty">"No platforms yet."</p> }.into_any()
        } else {
            d.platforms.into_iter().map(|p| {
                let platform = p.platform.clone();
                view! {
                    <section class="cluster-platform" data-platform=p.platform.slug.clone()>
                        <h2>{p.platform.name.clone()}</h2>
                        {if p.environments.is_empty() {
                            view! { <p class="empty">"No environments."</p> }.into_any()
                        } else {
                            p.environments.into_iter()
                                .map(|e| environment_view(&platform, e, can_manage))
                                .collect_view()
                                .into_any()
                        }}
                    </section>
                }
            }).collect_view().into_any()
        }}
        <section id="team-webhooks" aria-labelledby="webhooks-heading">
            <h2 id="webhooks-heading">"Team webhooks"</h2>
            <p class="muted">"Demarc posts to a team's webhooks when a regression (drift) is found in one of its approved applications."</p>
            {if d.teams.is_empty() {
                view! { <p class="empty">"You cannot set webhooks for any team."</p> }.into_any()
            } else {
                d.teams.into_iter().map(team_hooks).collect_view().into_any()
            }}
        </section>
    }
}

fn environment_view(
    platform: &Platform,
    e: EnvironmentCluster,
    can_manage: bool,
) -> impl IntoView + use<> {
    let env = e.environment;
    let key = format!("{}-{}", platform.slug, env.slug);
    let env_id = env.id.to_string();
    let facts = match &e.connection {
        Some(c) => connection_facts(c, &key).into_any(),
        None => view! {
            <p class="empty no-connection">"No connection: reviews on this environment cannot be verified against the cluster (they can still verify pasted kubectl output)."</p>
        }
        .into_any(),
    };
    let forms = can_manage.then(|| {
        let has = e.connection.is_some();
        view! {
            <div class="no-print cluster-forms">
                {has.then(|| view! { <TestButton environment_id=env_id.clone() key=key.clone()/> })}
                <details class="edit-item" open=!has>
                    <summary>{if has { "Change the connection" } else { "Set the connection" }}</summary>
                    <ConnectionForm environment_id=env_id.clone() key=key.clone() connection=e.connection.clone()/>
                </details>
                {has.then(|| view! { <RemoveButton environment_id=env_id.clone() key=key.clone()/> })}
            </div>
        }
    });
    view! {
        <article class="cluster-env" id=format!("env-{env_id}") data-environment=env.slug.clone() data-key=key.clone()>
            <h3>{env.name.clone()}{env.is_production.then(|| view! { <span class="badge prod">"production"</span> })}</h3>
            {facts}
            {forms}
        </article>
    }
}

fn connection_facts(c: &ClusterConnection, key: &str) -> impl IntoView + use<> {
    let test = match (c.last_tested_at, &c.last_test_error) {
        (None, _) => view! { <span class="muted">"Not tested since it was set"</span> }.into_any(),
        (Some(at), Some(error)) => view! {
            <span class="badge outcome-fail">"Failed"</span>" "{when(at)}
            <p class="test-error">{error.clone()}</p>
        }
        .into_any(),
        (Some(at), None) => {
            let missing = c.last_missing.clone();
            view! {
                {if missing.is_empty() {
                    view! { <span class="badge outcome-pass">"Connected"</span> }.into_any()
                } else {
                    view! { <span class="badge outcome-warn">"Connected, permissions missing"</span> }.into_any()
                }}
                " "{when(at)}
                {c.last_server_version.clone().map(|v| view! { <span class="server-version">{format!(" · Kubernetes {v}")}</span> })}
                {(!missing.is_empty()).then(|| view! {
                    <p>"Demarc may not:"</p>
                    <ul class="missing-permissions">{missing.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                })}
            }
            .into_any()
        }
    };
    view! {
        <dl class="facts connection-facts" id=format!("connection-{key}") data-mode=c.mode.clone()>
            <dt>"Connection"</dt><dd class="connection-mode">{mode_label(&c.mode)}</dd>
            {(!c.server_url.is_empty()).then(|| view! { <dt>"API server"</dt><dd class="server-url">{c.server_url.clone()}</dd> })}
            {(!c.context.is_empty()).then(|| view! { <dt>"Context"</dt><dd>{c.context.clone()}</dd> })}
            {(c.mode == "token").then(|| view! {
                <dt>"CA"</dt><dd>{if c.has_ca { "Stored" } else { "The system's roots" }}</dd>
            })}
            {(c.mode != "in_cluster").then(|| view! {
                <dt>"Credentials"</dt><dd class="has-secret">{if c.has_secret { "Stored (never shown)" } else { "None" }}</dd>
            })}
            <dt>"Re-verification"</dt>
            <dd class="schedule">{match c.verify_every_minutes {
                Some(m) => format!("Every {m} minutes"),
                None => "On demand only".to_owned(),
            }}</dd>
            <dt>"Last test"</dt><dd id=format!("test-result-{key}") class="test-result">{test}</dd>
            <dt>"Changed"</dt><dd>{when(c.updated_at)}" by "{c.updated_by.clone()}</dd>
        </dl>
    }
}

#[component]
fn TestButton(environment_id: String, key: String) -> impl IntoView {
    view! {
        <PostForm action=TestConnection::url() class="inline-form">
            <input type="hidden" name="environment_id" value=environment_id/>
            <button type="submit" class="secondary" id=format!("test-connection-{key}")>"Test connection"</button>
        </PostForm>
    }
}

#[component]
fn RemoveButton(environment_id: String, key: String) -> impl IntoView {
    view! {
        <PostForm action=RemoveConnection::url()>
            <input type="hidden" name="environment_id" value=environment_id/>
            <button type="submit" class="secondary" id=format!("remove-connection-{key}")>"Remove the connection"</button>
        </PostForm>
    }
}

#[component]
fn ConnectionForm(
    environment_id: String,
    key: String,
    connection: Option<ClusterConnection>,
) -> impl IntoView {
    let prefix = format!("{key}-");
    let mode_id = format!("field-{key}-mode");
    let secret_id = format!("field-{key}-secret");
    let secret_error_id = format!("{secret_id}-error");
    let c = connection.clone();
    let mode = c
        .as_ref()
        .map(|c| c.mode.clone())
        .unwrap_or_else(|| "token".to_owned());
    let secret_hint = if c.as_ref().is_some_and(|c| c.has_secret) {
        "A secret is stored: leave this empty to keep it. A token must be given again when the API server address or the CA changes."
    } else {
        "Token mode: the bearer token. Kubeconfig mode: the whole file. In-cluster: leave empty."
    };
    view! {
        <PostForm action=SaveConnection::url() class="connection-form">
            <input type="hidden" name="environment_id" value=environment_id/>
            <input type="hidden" name="version" value=c.as_ref().map(|c| c.version).unwrap_or(0).to_string()/>
            <div class="field" class:invalid=field_error("mode").is_some()>
                <label for=mode_id.clone()>"How Demarc connects"</label>
                <select id=mode_id name="mode">
                    {MODES.iter().map(|(m, label)| view! {
                        <option value=*m selected=*m == mode>{*label}</option>
                    }).collect_view()}
                </select>
                <p class="field-error">{field_error("mode")}</p>
            </div>
            <TextField label="API server address" name="server_url" value=c.as_ref().map(|c| c.server_url.clone()).unwrap_or_default()
                hint="Token mode, e.g. https://api.cluster.example.com:6443." prefix=prefix.clone()/>
            <TextArea label="CA certificate (PEM)" name="ca_pem"
                hint="Token mode. Paste it again when you change the connection; empty uses the system's roots." prefix=prefix.clone()/>
            <TextField label="Kubeconfig context" name="context" value=c.as_ref().map(|c| c.context.clone()).unwrap_or_default()
                hint="Kubeconfig mode; empty uses the file's current context." prefix=prefix.clone()/>
            <div class="field" class:invalid=field_error("secret").is_some()>
                <label for=secret_id.clone()>"Token or kubeconfig"</label>
                <textarea id=secret_id name="secret" rows="3" class="secret-input" autocomplete="off" spellcheck="false"
                    aria-describedby=secret_error_id.clone()></textarea>
                <p class="hint">{secret_hint}</p>
                <p class="field-error" id=secret_error_id>{field_error("secret")}</p>
            </div>
            <TextField label="Re-verify every (minutes)" name="verify_every_minutes" input_type="number"
                value=c.as_ref().and_then(|c| c.verify_every_minutes).map(|m| m.to_string()).unwrap_or_default()
                hint="5 to 10,080. Empty: only when someone asks." prefix=prefix.clone()/>
            <button type="submit" class="primary" id=format!("save-connection-{key}")>"Save the connection"</button>
        </PostForm>
    }
}

fn team_hooks(t: TeamHooks) -> impl IntoView {
    let slug = t.team.slug.clone();
    let hooks = if t.webhooks.is_empty() {
        view! { <p class="empty">"No webhooks."</p> }.into_any()
    } else {
        view! {
            <ul class="webhooks">
                {t.webhooks.into_iter().map(|h| view! {
                    <li class="webhook" data-webhook-id=h.id.to_string()>
                        <strong>{h.hint.clone()}</strong>" · "{h.format.clone()}" · added by "{h.created_by.clone()}" on "{when(h.created_at)}
                        <RemoveWebhookButton id=h.id.to_string()/>
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <article class="team-webhooks" data-team=slug.clone()>
            <h3>{t.team.name.clone()}</h3>
            {hooks}
            <AddWebhookForm team_id=t.team.id.to_string() slug=slug.clone()/>
        </article>
    }
}

#[component]
fn RemoveWebhookButton(id: String) -> impl IntoView {
    view! {
        <PostForm action=RemoveWebhook::url() class="inline-form no-print">
            <input type="hidden" name="id" value=id.clone()/>
            <button type="submit" class="link remove-webhook" id=format!("remove-webhook-{id}")>"Remove"</button>
        </PostForm>
    }
}

#[component]
fn AddWebhookForm(team_id: String, slug: String) -> impl IntoView {
    let prefix = format!("hook-{slug}-");
    let format_id = format!("field-hook-{slug}-format");
    view! {
        <PostForm action=AddWebhook::url() class="inline-form no-print webhook-form">
            <input type="hidden" name="team_id" value=team_id/>
            <TextField label="Webhook address" name="url" hint="Never shown again after saving: only its host." prefix=prefix/>
            <div class="field" class:invalid=field_error("format").is_some()>
                <label for=format_id.clone()>"Format"</label>
                <select id=format_id name="format">
                    <option value="json">"JSON"</option>
                    <option value="slack">"Slack"</option>
                </select>
                <p class="field-error">{field_error("format")}</p>
            </div>
            <button type="submit" class="primary" id=format!("add-webhook-{slug}")>"Add webhook"</button>
        </PostForm>
    }
}
