//! Disaster-recovery drills: planned with a goal, a scenario and targets; recorded afterwards with
//! what was measured (met or breached) and a retrospective.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{RetrospectiveFields, drill_state_badge, retrospective_view};
use crate::api::calendar::{
    CancelDrill, DrillFormData, DrillPageData, RecordDrillResult, SaveDrill, load_drill,
    load_drill_form,
};
use crate::components::{ErrorBox, PostForm, TextArea, TextField, field_error, when};
use domain::calendar::model::Drill;

/// `/calendar/drills/new`
#[component]
pub fn NewDrillPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_drill_form());
    view! {
        <Title text="Plan a DR drill"/>
        <div class="page-head">
            <h1>"Plan a disaster-recovery drill"</h1>
            <div class="actions no-print"><a class="button secondary" href="/calendar">"Calendar"</a></div>
        </div>
        <p class="muted">"A drill measures what a restore really takes: how much data is lost (RPO), how long recovery takes (RTO), and whether the backups are kept as long as promised."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => view! { <DrillForm data=d/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The drill form: planning a new drill (`data` gives the platforms and applications to choose
/// from) or changing a planned one (`drill`, which stays on its platform and application).
#[component]
fn DrillForm(
    #[prop(optional)] data: Option<DrillFormData>,
    #[prop(optional)] drill: Option<Drill>,
) -> impl IntoView {
    let local = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let d = drill.clone();
    let text = move |f: fn(&Drill) -> String| d.as_ref().map(f).unwrap_or_default();
    let number =
        |value: Option<i32>, default: &str| value.map_or(default.to_owned(), |v| v.to_string());
    let placement = match (&drill, data) {
        (Some(d), _) => view! {
            <input type="hidden" name="id" value=d.id.to_string()/>
            <input type="hidden" name="version" value=d.version.to_string()/>
            <input type="hidden" name="platform_id" value=d.platform_id.to_string()/>
            <input type="hidden" name="application_id" value=d.application_id.map(|a| a.to_string()).unwrap_or_default()/>
        }
        .into_any(),
        (None, Some(data)) => view! {
            <div class="grid-2">
                <div class="field" class:invalid=field_error("platform_id").is_some()>
                    <label for="field-platform_id">"Platform"</label>
                    <select id="field-platform_id" name="platform_id">
                        {data.platforms.into_iter().map(|p| view! { <option value=p.id.to_string()>{p.name}</option> }).collect_view()}
                    </select>
                    <p class="field-error">{field_error("platform_id")}</p>
                </div>
                <div class="field" class:invalid=field_error("application_id").is_some()>
                    <label for="field-application_id">"Application"</label>
                    <select id="field-application_id" name="application_id">
                        <option value="">"None: the platform's own drill"</option>
                        {data.applications.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                    <p class="hint">"An application's drill can also be planned by its team."</p>
                    <p class="field-error">{field_error("application_id")}</p>
                </div>
            </div>
        }
        .into_any(),
        (None, None) => ().into_any(),
    };
    let (submit_id, submit) = if drill.is_some() {
        ("update-drill", "Save the changes")
    } else {
        ("create-drill", "Plan the drill")
    };
    view! {
        <PostForm action=SaveDrill::url() class="drill-form">
            {placement}
            <TextField label="Title" name="title" required=true value=text(|d| d.title.clone())/>
            <TextArea label="Goal" name="goal" value=text(|d| d.goal.clone())
                hint="e.g. verify the backup scope, measure the RTO, check the runbook."/>
            <TextArea label="Scenario" name="scenario" value=text(|d| d.scenario.clone())
                hint="What fails and how it is noticed."/>
            <TextArea label="Starting state" name="starting_state" value=text(|d| d.starting_state.clone())
                hint="A realistic state to start from."/>
            <div class="grid-2">
                <TextField label="Participants" name="participants" value=text(|d| d.participants.clone())
                    hint="Who acts during the drill."/>
                <TextField label="Observers" name="observers" value=text(|d| d.observers.clone())
                    hint="Who watches and takes notes."/>
                <TextField label="Leader" name="leader" required=true value=text(|d| d.leader.clone())/>
                <TextField label="Starts (UTC)" name="starts_at" input_type="datetime-local" required=true
                    value=drill.as_ref().map(|d| local(d.starts_at)).unwrap_or_default()
                    hint="Read as UTC, not your local time."/>
                <TextField label="Ends (UTC)" name="ends_at" input_type="datetime-local" required=true
                    value=drill.as_ref().map(|d| local(d.ends_at)).unwrap_or_default()/>
                <TextField label="Target RPO (minutes)" name="target_rpo_minutes" input_type="number"
                    value=number(drill.as_ref().map(|d| d.target_rpo_minutes), "1440")
                    hint="Most data that may be lost; nightly backups mean 1440."/>
                <TextField label="Target RTO (minutes)" name="target_rto_minutes" input_type="number"
                    value=number(drill.as_ref().map(|d| d.target_rto_minutes), "240")
                    hint="Longest the recovery may take."/>
                <TextField label="Backup retention (days)" name="target_retention_days" input_type="number"
                    value=number(drill.as_ref().map(|d| d.target_retention_days), "7")/>
            </div>
            <button type="submit" class="primary" id=submit_id>{submit}</button>
        </PostForm>
    }
}

/// `/calendar/drills/:id`
#[component]
pub fn DrillPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_drill,
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="DR drill"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => drill_view(d).into_any(),
                }
            })}
        </Transition>
    }
}

/// A measurement against its target: "45 min (target 60): met".
fn measured(
    value: Option<i32>,
    target: i32,
    met: Option<bool>,
    unit: &str,
) -> impl IntoView + use<> {
    match (value, met) {
        (Some(v), Some(ok)) => view! {
            {format!("{v} {unit} (target {target} {unit}) ")}
            {if ok {
                view! { <span class="badge ok met">"met"</span> }.into_any()
            } else {
                view! { <span class="badge breached">"breached"</span> }.into_any()
            }}
        }
        .into_any(),
        _ => view! { {format!("target {target} {unit}")}<span class="muted">" · not measured yet"</span> }.into_any(),
    }
}

fn drill_view(d: DrillPageData) -> impl IntoView {
    let r = d.drill;
    let planned = r.state == "planned";
    let retention = match r.retention_verified {
        Some(true) => "Verified",
        Some(false) => "Not verified",
        None => "Not checked",
    };
    let retro = r
        .retrospective
        .clone()
        .map(|x| retrospective_view(x, Some(d.today), d.can_work));
    let id = r.id.to_string();
    view! {
        <Title text=format!("DR drill: {}", r.title)/>
        <div class="page-head">
            <h1>"DR drill: "{r.title.clone()}" "<span id="drill-state">{drill_state_badge(&r.state)}</span></h1>
            <div class="actions no-print">
                <a class="button secondary" href=format!("/calendar?month={}", r.starts_at.format("%Y-%m"))>"Calendar"</a>
            </div>
        </div>
        <dl class="facts" id="drill-facts">
            <dt>"Platform"</dt><dd>{r.platform_slug.clone()}</dd>
            <dt>"Application"</dt><dd>{r.application_slug.clone().unwrap_or_else(|| "None: the platform's own drill".into())}</dd>
            <dt>"When"</dt><dd>{when(r.starts_at)}" – "{when(r.ends_at)}</dd>
            <dt>"Goal"</dt><dd class="prewrap">{r.goal.clone()}</dd>
            <dt>"Scenario"</dt><dd class="prewrap">{r.scenario.clone()}</dd>
            <dt>"Starting state"</dt><dd class="prewrap">{r.starting_state.clone()}</dd>
            <dt>"Participants"</dt><dd>{r.participants.clone()}</dd>
            <dt>"Observers"</dt><dd>{r.observers.clone()}</dd>
            <dt>"Leader"</dt><dd>{r.leader.clone()}</dd>
            {r.cancel_reason.clone().map(|why| view! { <dt>"Cancelled because"</dt><dd class="prewrap" id="drill-cancel-reason">{why}</dd> })}
            <dt>"RPO"</dt><dd id="drill-rpo">{measured(r.measured_rpo_minutes, r.target_rpo_minutes, r.rpo_met, "min")}</dd>
            <dt>"RTO"</dt><dd id="drill-rto">{measured(r.measured_rto_minutes, r.target_rto_minutes, r.rto_met, "min")}</dd>
            <dt>"Backup retention"</dt><dd id="drill-retention">{format!("{} days · {retention}", r.target_retention_days)}</dd>
            <dt>"Planned by"</dt><dd>{r.created_by.clone()}</dd>
        </dl>
        {retro}
        {(planned && d.can_work).then(|| view! {
            <section class="edit no-print" id="drill-result">
                <h2>"Record the result"</h2>
                {if d.started {
                    view! { <ResultForm drill=r.clone()/> }.into_any()
                } else {
                    view! { <p class="muted">"The result is recorded once the drill has started."</p> }.into_any()
                }}
                <details class="item-form" id="change-drill">
                    <summary>"Change the drill"</summary>
                    <DrillForm drill=r.clone()/>
                </details>
                <details class="item-form">
                    <summary>"Cancel the drill"</summary>
                    <PostForm action=CancelDrill::url() class="cancel-drill-form">
                        <input type="hidden" name="id" value=id.clone()/>
                        <TextArea label="Why it is called off" name="reason"/>
                        <button type="submit" class="secondary" id="cancel-drill">"Cancel the drill"</button>
                    </PostForm>
                </details>
            </section>
        })}
    }
}

#[component]
fn ResultForm(drill: Drill) -> impl IntoView {
    view! {
        <PostForm action=RecordDrillResult::url() class="drill-result-form">
            <input type="hidden" name="id" value=drill.id.to_string()/>
            <div class="grid-2">
                <TextField label="Measured RPO (minutes)" name="measured_rpo_minutes" input_type="number" required=true
                    hint="Data lost: the age of the newest restorable backup."/>
                <TextField label="Measured RTO (minutes)" name="measured_rto_minutes" input_type="number" required=true
                    hint="From the failure to the application working again."/>
                <div class="field" class:invalid=field_error("retention_verified").is_some()>
                    <label for="field-retention_verified">"Backup retention"</label>
                    <select id="field-retention_verified" name="retention_verified">
                        <option value="">"Not checked"</option>
                        <option value="yes">"Verified"</option>
                        <option value="no">"Not as promised"</option>
                    </select>
                    <p class="field-error">{field_error("retention_verified")}</p>
                </div>
            </div>
            <RetrospectiveFields retrospective=None/>
            <button type="submit" class="primary" id="record-result">"Record the result"</button>
        </PostForm>
    }
}
