//! Maintenances: the planning form (a window of the environment's plan, or an emergency with its
//! own times), and a maintenance's page with its lifecycle, retrospective and the teams'
//! acknowledgements.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    RetrospectiveFields, category_badge, env_badge, retrospective_view, short_day, state_badge,
};
use crate::api::calendar::{
    AckRow, AcknowledgeMaintenance, CreateMaintenance, MaintenanceFormData, MaintenancePageData,
    MaintenanceStep, UpdateMaintenance, WriteMaintenanceRetrospective, load_maintenance,
    load_maintenance_edit, load_maintenance_form,
};
use crate::components::{ButtonForm, ErrorBox, PostForm, TextArea, TextField, field_error, when};
use domain::calendar::human_date;
use domain::calendar::model::{Category, Maintenance, MaintenanceState};
use domain::model::Environment;

/// `/calendar/maintenances/new?environment=<id>`
#[component]
pub fn NewMaintenancePage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || query.read().get("environment"),
        load_maintenance_form,
    );
    view! {
        <Title text="Plan a maintenance"/>
        <div class="page-head">
            <h1>"Plan a maintenance"</h1>
            <div class="actions no-print"><a class="button secondary" href="/calendar">"Calendar"</a></div>
        </div>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => new_maintenance_view(d).into_any(),
                }
            })}
        </Suspense>
    }
}

fn new_maintenance_view(d: MaintenanceFormData) -> impl IntoView {
    let chosen = d.environment.as_ref().map(|e| e.id);
    let chooser = view! {
        <form method="get" action="/calendar/maintenances/new" class="filters" id="choose-environment-form">
            <label for="choose-environment">"Environment"</label>
            <select id="choose-environment" name="environment">
                <option value="">"Choose an environment"</option>
                {d.environments.iter().map(|(platform, e)| view! {
                    <option value=e.id.to_string() selected=Some(e.id) == chosen>{format!("{platform} / {}", e.name)}</option>
                }).collect_view()}
            </select>
            <button type="submit" id="choose-environment-button">"Show its windows"</button>
        </form>
    };
    let body = match (&d.environment, d.can_manage) {
        (_, false) => view! {
            <p class="alert alert-info">"Platform engineers plan maintenances; you can read them on the calendar."</p>
        }
        .into_any(),
        (None, true) => view! { <p class="muted">"Choose the environment first: the form then offers its next windows."</p> }
            .into_any(),
        (Some(env), true) => view! { <MaintenanceFormView data=d.clone() environment=env.clone()/> }.into_any(),
    };
    view! { {chooser}{body} }
}

fn maintenance_label(m: &Maintenance) -> String {
    format!(
        "{} · {} · {} ({})",
        m.title,
        m.category.label(),
        m.window_date
            .map(human_date)
            .unwrap_or_else(|| m.starts_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        m.state.label().to_lowercase()
    )
}

/// The new-maintenance form.
#[component]
fn MaintenanceFormView(data: MaintenanceFormData, environment: Environment) -> impl IntoView {
    view! {
        <PostForm action=CreateMaintenance::url() class="maintenance-form">
            <MaintenanceFields data=data environment=environment/>
            <button type="submit" class="primary" id="create-maintenance">"Plan the maintenance"</button>
        </PostForm>
    }
}

/// The fields of the maintenance form, filled from `data.editing` when it changes one.
#[component]
fn MaintenanceFields(data: MaintenanceFormData, environment: Environment) -> impl IntoView {
    let editing = data.editing.clone();
    let text =
        |f: fn(&Maintenance) -> &String| editing.as_ref().map(f).cloned().unwrap_or_default();
    // An emergency's own times, as `<input type="datetime-local">` shows them.
    let emergency_time = |at: fn(&Maintenance) -> chrono::DateTime<chrono::Utc>| {
        editing
            .as_ref()
            .filter(|m| m.window_date.is_none())
            .map(|m| at(m).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default()
    };
    let allowed = data
        .plan
        .as_ref()
        .map(|p| p.allowed_categories.clone())
        .unwrap_or_default();
    let categories = [
        Category::SecurityPatch,
        Category::Minor,
        Category::Major,
        Category::Emergency,
    ];
    let chosen_category = editing
        .as_ref()
        .map(|m| m.category)
        .or_else(|| allowed.first().copied())
        .unwrap_or(Category::Emergency);
    let chosen_window = editing.as_ref().and_then(|m| m.window_date);
    let chosen_staging = editing.as_ref().and_then(|m| m.staging_maintenance_id);
    // The window it takes stays on offer even when it is no longer among the next ones.
    let mut windows: Vec<(chrono::NaiveDate, String)> = data
        .windows
        .iter()
        .map(|w| {
            let follows = w
                .follows
                .map(|f| format!(" · follows {}", short_day(f)))
                .unwrap_or_default();
            let label = format!(
                "{} · {}–{} UTC{follows}",
                human_date(w.local_date),
                w.starts_at.format("%H:%M"),
                w.ends_at.format("%H:%M")
            );
            (w.local_date, label)
        })
        .collect();
    if let Some(day) = chosen_window.filter(|d| !windows.iter().any(|(w, _)| w == d)) {
        windows.insert(0, (day, human_date(day)));
    }
    let window_hint = match &data.plan {
        None => format!(
            "{} has no maintenance plan: only an emergency can be declared.",
            environment.slug
        ),
        Some(_) => format!(
            "The windows of {} still open (allowed: {}).",
            environment.slug,
            allowed
                .iter()
                .map(|c| c.label())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    view! {
        <input type="hidden" name="environment_id" value=environment.id.to_string()/>
        <h2>{environment.name.clone()}" "{env_badge(&environment.slug, environment.is_production)}</h2>
        <div class="grid-2">
            <div class="field" class:invalid=field_error("category").is_some()>
                <label for="field-category">"Kind of change"</label>
                <select id="field-category" name="category">
                    {categories.into_iter().map(|c| view! {
                        <option value=c.as_str() selected=c == chosen_category>{c.label()}</option>
                    }).collect_view()}
                </select>
                <p class="hint">"Major updates need notice and are acknowledged by the teams; an emergency skips the windows."</p>
                <p class="field-error">{field_error("category")}</p>
            </div>
            <div class="field" class:invalid=field_error("window_date").is_some()>
                <label for="field-window_date">"Window"</label>
                <select id="field-window_date" name="window_date">
                    {windows.into_iter().map(|(day, label)| view! {
                        <option value=day.to_string() selected=Some(day) == chosen_window>{label}</option>
                    }).collect_view()}
                    // Last, so that a new planned change starts on the next window.
                    <option value="" selected=chosen_window.is_none() && chosen_category == Category::Emergency>
                        "No window (emergency)"
                    </option>
                </select>
                <p class="hint">{window_hint}</p>
                <p class="field-error">{field_error("window_date")}</p>
            </div>
        </div>
        <TextField label="Title" name="title" value=text(|m| &m.title) required=true hint="What changes, e.g. Kubernetes 1.32."/>
        <div class="grid-2">
            <TextField label="Kubernetes from" name="kubernetes_from" value=text(|m| &m.kubernetes_from) hint="e.g. 1.31"/>
            <TextField label="Kubernetes to" name="kubernetes_to" value=text(|m| &m.kubernetes_to) hint="e.g. 1.32"/>
            <TextField label="Node image" name="node_image" value=text(|m| &m.node_image) hint="The node OS image it rolls out."/>
            <TextField label="Lead" name="lead" value=text(|m| &m.lead) required=true hint="Who runs it."/>
        </div>
        <TextArea label="System components" name="components" value=text(|m| &m.components) hint="System Pods and add-ons it updates."/>
        <TextArea label="Description" name="description" value=text(|m| &m.description)
            hint="Say what changes here or in the fields above (Kubernetes, node image, components): at least one, except in an emergency."/>
        <p class="field-error" id="field-changes-error">{field_error("changes")}</p>
        <TextArea label="Expected impact" name="expected_impact" value=text(|m| &m.expected_impact) hint="What application teams will notice."/>
        <TextArea label="Contingency plan" name="contingency_plan" value=text(|m| &m.contingency_plan)
            required=true hint="How it is rolled back or worked around if it goes wrong."/>
        {data.upstream.clone().map(|up| {
            let options = data.upstream_maintenances.iter().map(|m| view! {
                <option value=m.id.to_string() selected=Some(m.id) == chosen_staging>{maintenance_label(m)}</option>
            }).collect_view();
            view! {
                <div class="field" class:invalid=field_error("staging_maintenance_id").is_some()>
                    <label for="field-staging_maintenance_id">{format!("The maintenance of {} it repeats", up.name)}</label>
                    <select id="field-staging_maintenance_id" name="staging_maintenance_id">
                        <option value="">"None"</option>
                        {options}
                    </select>
                    <p class="hint">{format!("{} only receives changes {} received in an earlier window.", environment.slug, up.slug)}</p>
                    <p class="field-error">{field_error("staging_maintenance_id")}</p>
                </div>
            }
        })}
        <fieldset>
            <legend>"Emergency only"</legend>
            <div class="grid-2">
                <TextField label="Starts (UTC)" name="starts_at" input_type="datetime-local"
                    value=emergency_time(|m| m.starts_at) hint="Read as UTC, not your local time."/>
                <TextField label="Ends (UTC)" name="ends_at" input_type="datetime-local"
                    value=emergency_time(|m| m.ends_at) hint="At most 72 hours after the start."/>
            </div>
            <TextArea label="Justification" name="justification" value=text(|m| &m.justification)
                hint="Why it cannot wait for a window, e.g. the exploited vulnerability."/>
        </fieldset>
    }
}

/// `/calendar/maintenances/:id/edit`
#[component]
pub fn EditMaintenancePage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_maintenance_edit,
    );
    view! {
        <Title text="Change a maintenance"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => edit_maintenance_view(d).into_any(),
                }
            })}
        </Suspense>
    }
}

fn edit_maintenance_view(d: MaintenanceFormData) -> impl IntoView {
    let (Some(m), Some(env)) = (d.editing.clone(), d.environment.clone()) else {
        return ().into_any();
    };
    let back = format!("/calendar/maintenances/{}", m.id);
    let body = if !d.can_manage {
        view! { <p class="alert alert-info">"Platform engineers change maintenances; you can read them on the calendar."</p> }
            .into_any()
    } else if !m.state.is_upcoming() {
        view! {
            <p class="alert alert-info" id="not-editable">
                {format!("This maintenance is {}: only a planned or announced one can be changed.", m.state.label().to_lowercase())}
            </p>
        }
        .into_any()
    } else {
        view! { <EditMaintenanceForm data=d environment=env maintenance=m/> }.into_any()
    };
    view! {
        <div class="page-head">
            <h1>"Change the maintenance"</h1>
            <div class="actions no-print"><a class="button secondary" href=back>"Back"</a></div>
        </div>
        {body}
    }
    .into_any()
}

/// The maintenance form filled with a maintenance, saved against the version it was loaded at.
#[component]
fn EditMaintenanceForm(
    data: MaintenanceFormData,
    environment: Environment,
    maintenance: Maintenance,
) -> impl IntoView {
    view! {
        <PostForm action=UpdateMaintenance::url() class="maintenance-form">
            {(maintenance.state == MaintenanceState::Announced).then(|| view! {
                <p class="alert alert-info">"It has been announced: the teams are told of the change and acknowledge it again."</p>
            })}
            <input type="hidden" name="id" value=maintenance.id.to_string()/>
            <input type="hidden" name="base_version" value=maintenance.version.to_string()/>
            <MaintenanceFields data=data environment=environment/>
            <button type="submit" class="primary" id="update-maintenance">"Save the changes"</button>
        </PostForm>
    }
}

/// `/calendar/maintenances/:id`
#[component]
pub fn MaintenancePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                query.read().get("warnings"),
            )
        },
        |(id, warnings)| load_maintenance(id, warnings),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Maintenance"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => {
                        let warnings = d.warnings.clone();
                        maintenance_view(d, warnings).into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn text_fact(label: &'static str, value: &str, id: &'static str) -> impl IntoView + use<> {
    (!value.is_empty()).then(|| {
        view! { <dt>{label}</dt><dd class="prewrap" id=id>{value.to_owned()}</dd> }
    })
}

fn maintenance_view(d: MaintenancePageData, warnings: Vec<String>) -> impl IntoView {
    let m = d.maintenance;
    let id = m.id.to_string();
    let kubernetes = (!m.kubernetes_to.is_empty() || !m.kubernetes_from.is_empty()).then(|| {
        format!(
            "{} → {}",
            if m.kubernetes_from.is_empty() {
                "?"
            } else {
                &m.kubernetes_from
            },
            if m.kubernetes_to.is_empty() {
                "?"
            } else {
                &m.kubernetes_to
            }
        )
    });
    let staging = d.staging.map(|s| {
        view! {
            <dt>"Repeats"</dt>
            <dd id="repeats"><a href=format!("/calendar/maintenances/{}", s.id)>{s.title.clone()}</a>
                " on "{s.environment_slug.clone()}" "
                {s.window_date.map(short_day).unwrap_or_else(|| s.starts_at.format("%Y-%m-%d").to_string())}
                " ("{s.state.label().to_lowercase()}")"</dd>
        }
    });
    let ended = m.state.is_ended();
    let retro = m
        .retrospective
        .clone()
        .map(|r| retrospective_view(r, Some(d.today), d.can_manage));
    view! {
        <Title text=m.title.clone()/>
        <div class="page-head">
            <h1>{m.title.clone()}" "<span id="maintenance-state">{state_badge(m.state)}</span></h1>
            <div class="actions no-print">
                {(d.can_manage && m.state.is_upcoming()).then(|| view! {
                    <a class="button" id="edit-maintenance" href=format!("/calendar/maintenances/{id}/edit")>"Edit"</a>
                })}
                <a class="button secondary" href=format!("/calendar?month={}", m.starts_at.format("%Y-%m"))>"Calendar"</a>
            </div>
        </div>
        // The warnings of the save that led here, while they still apply.
        {(!warnings.is_empty() && m.state.is_upcoming()).then(|| view! {
            <div class="alert alert-info" id="maintenance-warnings" role="status">
                <p><strong>"Saved, with a warning:"</strong></p>
                <ul>{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            </div>
        })}
        {m.retrospective_due.then(|| view! {
            <p class="alert alert-info" id="retrospective-due">"This maintenance has ended: its retrospective is due."</p>
        })}
        <dl class="facts" id="maintenance-facts">
            <dt>"Kind"</dt><dd>{category_badge(m.category)}</dd>
            <dt>"Environment"</dt>
            <dd>{m.platform_name.clone()}" / "{m.environment_name.clone()}" "{env_badge(&m.environment_slug, m.is_production)}</dd>
            <dt>"When"</dt>
            <dd id="maintenance-when">{when(m.starts_at)}" – "{when(m.ends_at)}
                {m.window_date.map(|w| format!(" (window of {})", human_date(w)))}</dd>
            {staging}
            {kubernetes.map(|k| view! { <dt>"Kubernetes"</dt><dd id="kubernetes">{k}</dd> })}
            {text_fact("Node image", &m.node_image, "node-image")}
            {text_fact("System components", &m.components, "components")}
            {text_fact("Description", &m.description, "description")}
            {text_fact("Expected impact", &m.expected_impact, "expected-impact")}
            {text_fact("Contingency plan", &m.contingency_plan, "contingency-plan")}
            <dt>"Lead"</dt><dd id="lead">{m.lead.clone()}</dd>
            {text_fact("Justification", &m.justification, "justification")}
            {m.announced_at.map(|at| view! { <dt>"Announced"</dt><dd>{when(at)}</dd> })}
            {m.started_at.map(|at| view! { <dt>"Started"</dt><dd>{when(at)}</dd> })}
            {m.ended_at.map(|at| view! { <dt>"Ended"</dt><dd>{when(at)}</dd> })}
            {text_fact("Why cancelled", &m.cancel_reason, "cancel-reason")}
            <dt>"Planned by"</dt><dd>{m.created_by.clone()}" on "{when(m.created_at)}</dd>
        </dl>
        {d.can_manage.then(|| lifecycle(&m))}
        {(m.category == Category::Major).then(|| acknowledgements(&id, m.state, d.acknowledgements))}
        {retro}
        {(ended && d.can_manage).then(|| view! {
            <details class="edit no-print" id="retrospective-form" open=m.retrospective_due>
                <summary>{if m.retrospective.is_some() { "Change the retrospective" } else { "Write the retrospective" }}</summary>
                <RetrospectiveForm id=id.clone() maintenance=m.clone()/>
            </details>
        })}
    }
}

fn lifecycle(m: &Maintenance) -> impl IntoView + use<> {
    use MaintenanceState as S;
    let id = m.id.to_string();
    let step = |step: &'static str, label: &'static str| {
        view! {
            <ButtonForm action=MaintenanceStep::url() id=format!("step-{step}") label=label class="primary"
                fields=vec![("id", id.clone()), ("step", step.to_owned())] form_key=step/>
        }
    };
    let buttons = match m.state {
        S::Planned => view! {
            {step("announce", "Announce to the teams")}
            // Only an emergency starts without having been announced.
            {(m.category == Category::Emergency).then(|| step("start", "Start"))}
        }
        .into_any(),
        S::Announced => step("start", "Start").into_any(),
        S::InProgress => view! {
            {step("complete", "Complete")}
            {step("roll_back", "Roll back")}
        }
        .into_any(),
        _ => ().into_any(),
    };
    let cancel = m
        .state
        .is_upcoming()
        .then(|| view! { <CancelForm id=id.clone()/> });
    (!matches!(m.state, S::Completed | S::Cancelled | S::RolledBack)).then(|| {
        view! {
            <section class="lifecycle no-print" id="lifecycle" aria-labelledby="lifecycle-heading">
                <h2 id="lifecycle-heading">"Lifecycle"</h2>
                <div class="actions">{buttons}</div>
                {cancel}
            </section>
        }
    })
}

#[component]
fn CancelForm(id: String) -> impl IntoView {
    view! {
        <details class="edit-item">
            <summary>"Cancel the maintenance"</summary>
            <PostForm action=MaintenanceStep::url() class="cancel-form" form_key="cancel">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="step" value="cancel"/>
                <TextField label="Why it is cancelled" name="reason" required=true hint="The teams are told."/>
                <button type="submit" class="secondary" id="step-cancel">"Cancel the maintenance"</button>
            </PostForm>
        </details>
    }
}

fn acknowledgements(id: &str, state: MaintenanceState, rows: Vec<AckRow>) -> impl IntoView + use<> {
    let open = state == MaintenanceState::Announced;
    let body = if rows.is_empty() {
        view! { <p class="empty">"No team runs an application in this environment."</p> }.into_any()
    } else {
        view! {
            <table id="acknowledgements">
                <thead><tr><th>"Team"</th><th>"Acknowledged"</th><th class="no-print"></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let a = r.ack;
                        let status = match (&a.acknowledged_by, a.acknowledged_at) {
                            (Some(by), Some(at)) => view! {
                                <span class="badge ok">"Yes"</span>" "{by.clone()}" · "{when(at)}
                                {(!a.current).then(|| view! { " "<span class="badge warn">"changed since"</span> })}
                            }.into_any(),
                            _ => view! { <span class="badge warn">"Not yet"</span> }.into_any(),
                        };
                        let button = (open && r.can_acknowledge && !(a.current && a.acknowledged_at.is_some())).then(|| view! {
                            <ButtonForm action=AcknowledgeMaintenance::url() id=format!("acknowledge-{}", a.team_slug)
                                label=format!("Acknowledge for {}", a.team_name) class="primary"
                                fields=vec![("id", id.to_owned()), ("team_id", a.team_id.to_string())]/>
                        });
                        view! {
                            <tr class="acknowledgement" data-team=a.team_slug.clone()>
                                <td>{a.team_name.clone()}</td>
                                <td>{status}</td>
                                <td class="no-print">{button}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section id="acknowledgements-section" aria-labelledby="acks-heading">
            <h2 id="acks-heading">"Acknowledgements"</h2>
            <p class="muted">"A major update is acknowledged by every team that runs an application in the environment."</p>
            {body}
        </section>
    }
}

#[component]
fn RetrospectiveForm(id: String, maintenance: Maintenance) -> impl IntoView {
    view! {
        <PostForm action=WriteMaintenanceRetrospective::url() class="retrospective-form">
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="base_version" value=maintenance.version.to_string()/>
            <RetrospectiveFields retrospective=maintenance.retrospective.clone()/>
            <button type="submit" class="primary" id="save-retrospective">"Save the retrospective"</button>
        </PostForm>
    }
}
