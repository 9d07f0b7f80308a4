//! A go-live review: its items with their evidence, waivers, sign-off, live verification against
//! the cluster (polled once a second while it runs), uploads, run history and drift; and the
//! evidence frozen at sign-off.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{blockers, outcome_badge, progress_bar, state_badge, status_badge};
use crate::api::UiError;
use crate::api::golive::{
    AttestItem, FrozenPageData, RequestRun, ReviewPageData, RevokeWaiver, SignOff, UploadRun,
    WaiveItem, WithdrawReview, load_frozen, load_review, load_run,
};
use crate::components::{ErrorBox, PostForm, TextArea, TextField, field_error, when};
use domain::golive::model::{
    CheckResult, DriftEvent, ItemStatus, Outcome, Review, ReviewItem, RunSummary, SignoffSide,
    SourceInfo, VerificationRun, Waiver,
};

/// The run shown in the live panel (from `?run=`).
type RunResource = Resource<Result<Option<VerificationRun>, UiError>>;

/// What every item of a review needs to know to offer its forms.
#[derive(Clone)]
struct ItemCtx {
    review_id: String,
    now: DateTime<Utc>,
    /// The review is open (attest, mark not applicable).
    open: bool,
    /// The review is not withdrawn (waivers).
    live: bool,
    can_work: bool,
    can_manage: bool,
    /// Frozen evidence: no forms, details unfolded for print, every result listed.
    frozen: bool,
    /// The item whose results are all listed (`?all=key`); the others list the
    /// [`RESULTS_SHOWN`] that most need attention.
    show_all: Option<String>,
}

/// The most results an item lists on the live page: an application of 100 namespaces has
/// about a thousand per check, and the ones that fail are what the page is for.
const RESULTS_SHOWN: usize = 50;

/// `/golive/reviews/:id`: one review, live.
#[component]
pub fn ReviewPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_review,
    );
    // The run named in the address; while it runs, its panel says so (`data-poll`) and the
    // enhancer re-reads it, then the whole page once it finishes.
    let run: RunResource = Resource::new(
        move || query.read().get("run").filter(|r| !r.trim().is_empty()),
        |id| async move {
            match id {
                None => Ok(None),
                Some(id) => load_run(id).await.map(Some),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let show_all = query.read_untracked().get("all");
                match data.await {
                    Err(e) => view! { <Title text="Go-live review"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => review_view(d, run, show_all).into_any(),
                }
            })}
        </Transition>
    }
}

fn review_view(d: ReviewPageData, run: RunResource, show_all: Option<String>) -> impl IntoView {
    let r = d.review;
    let c = r.context.clone();
    let rid = r.id.to_string();
    let open = r.state == "open";
    let live = r.state != "withdrawn";
    let ctx = ItemCtx {
        review_id: rid.clone(),
        now: d.now,
        open,
        live,
        can_work: d.can_work,
        can_manage: d.can_manage,
        frozen: false,
        show_all,
    };
    let title = format!(
        "Go-live of {} on {}",
        c.application_name, c.environment_name
    );
    let automatic = r.items.iter().any(|i| i.definition.is_automatic());
    let (rid_verify, rid_upload, rid_withdraw) = (rid.clone(), rid.clone(), rid.clone());
    let titles: Vec<(String, String)> = r
        .items
        .iter()
        .map(|i| (i.key.clone(), i.definition.title.clone()))
        .collect();
    view! {
        <Title text=title.clone()/>
        <div class="page-head">
            <h1>"Go-live: "{c.application_name.clone()}" on "{c.environment_name.clone()}" "
                <span id="review-state">{state_badge(r.go_live)}</span></h1>
            <div class="actions no-print">
                <a class="button secondary" href="/golive">"Board"</a>
                {r.has_frozen.then(|| view! {
                    <a class="button secondary" id="frozen-link" href=format!("/golive/reviews/{}/frozen", r.id)>"Evidence frozen at sign-off"</a>
                })}
            </div>
        </div>
        {review_facts(&r)}
        {(r.state == "withdrawn").then(|| view! {
            <p class="alert alert-info" id="withdrawn">"This review was withdrawn; it stays here for the record."</p>
        })}
        <section id="review-progress-section">
            {progress_bar(&r.progress, Some("review-progress".to_owned()))}
            {blockers(&r.progress, 50)}
        </section>
        {drift_section(&r.drift, &titles)}
        {signoff_section(&r, d.can_sign_for_team, d.can_manage)}
        <section id="verification" aria-labelledby="verification-heading">
            <h2 id="verification-heading">"Verification against the cluster"</h2>
            {(automatic && d.can_work && live).then(|| view! {
                <PostForm action=RequestRun::url() class="inline-form no-print" id="verify-form">
                    <input type="hidden" name="review_id" value=rid_verify/>
                    <button type="submit" class="primary" id="verify">"Verify against the cluster"</button>
                </PostForm>
            })}
            {(!automatic).then(|| view! { <p class="muted">"This checklist has no automatic items."</p> })}
            {run_panel(run)}
            {(d.can_work && live).then(|| view! {
                <details class="no-print" id="upload">
                    <summary>"No connection to the cluster? Paste what kubectl shows"</summary>
                    <p class="hint">"Run "<code>"kubectl get deploy,sts,ds,cronjob,job,pod,hpa,pdb,networkpolicy,service,ingress -n NAMESPACE -o json"</code>" (add nodes and limitranges if you may read them) and paste the output, or paste YAML manifests. Demarc verifies them at once."</p>
                    <PostForm action=UploadRun::url()>
                        <input type="hidden" name="review_id" value=rid_upload/>
                        <TextField label="Name of the upload" name="file_name" value="kubectl-get.json" prefix="upload-"/>
                        <TextArea label="kubectl List (JSON) or YAML manifests" name="text" prefix="upload-"/>
                        <button type="submit" class="primary" id="upload-run">"Verify the pasted objects"</button>
                    </PostForm>
                </details>
            })}
            {runs_table(&d.runs)}
        </section>
        <section id="items-section" aria-labelledby="items-heading">
            <h2 id="items-heading">"Checklist items"</h2>
            <ol class="golive-items" id="items">
                {r.items.into_iter().map(|i| item_view(i, ctx.clone())).collect_view()}
            </ol>
        </section>
        {(open && d.can_work).then(|| view! {
            <details class="edit no-print" id="withdraw">
                <summary>"Withdraw this review"</summary>
                <p class="hint">"For example to start again from a newer version of the checklist. The review stays in the history."</p>
                <PostForm action=WithdrawReview::url()>
                    <input type="hidden" name="review_id" value=rid_withdraw/>
                    <input type="hidden" name="version" value=r.version.to_string()/>
                    <button type="submit" class="secondary" id="withdraw-review">"Withdraw the review"</button>
                </PostForm>
            </details>
        })}
    }
}

fn review_facts(r: &Review) -> impl IntoView + use<> {
    let c = &r.context;
    let namespaces = if c.namespaces.is_empty() {
        "none".to_owned()
    } else {
        c.namespaces.join(", ")
    };
    view! {
        <dl class="facts" id="review-facts">
            <dt>"Application"</dt>
            <dd><a href=format!("/applications/{}", c.application_id)>{c.application_name.clone()}</a>
                " · team "{c.team_name.clone()}</dd>
            <dt>"Environment"</dt>
            <dd>{c.environment_name.clone()}{c.is_production.then(|| view! { <span class="badge prod">"production"</span> })}
                " · namespaces: "{namespaces}</dd>
            <dt>"Platform"</dt>
            <dd><a href=format!("/platforms/{}", c.platform_id)>{c.platform_name.clone()}</a></dd>
            <dt>"Checklist"</dt>
            <dd id="template-version"><a href=format!("/platforms/{}/checklist", c.platform_id)>{format!("Version {}", r.template_version)}</a></dd>
            <dt>"Opened"</dt>
            <dd>{when(r.created_at)}" by "{r.created_by.clone()}</dd>
            <dt>"Approved"</dt>
            <dd id="approved-at">{match r.approved_at {
                Some(at) => when(at).into_any(),
                None => view! { <span class="muted">"Not yet"</span> }.into_any(),
            }}</dd>
        </dl>
    }
}

fn drift_section(drift: &[DriftEvent], titles: &[(String, String)]) -> impl IntoView + use<> {
    if drift.is_empty() {
        return None;
    }
    let title_of = |key: &str| {
        titles
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| key.to_owned())
    };
    let events = drift
        .iter()
        .map(|e| {
            let open = e.resolved_at.is_none();
            view! {
                <li class="drift-event" class:drift-open=open data-key=e.item_key.clone()>
                    <strong>{title_of(&e.item_key)}</strong>
                    {format!(": {} → {}", e.previous, e.current)}
                    {(!e.message.is_empty()).then(|| format!(" · {}", e.message))}
                    " · detected "{when(e.detected_at)}
                    {match e.resolved_at {
                        Some(at) => view! { " · resolved "{when(at)} }.into_any(),
                        None => view! { " · "<span class="badge state-drifted">"open"</span> }.into_any(),
                    }}
                </li>
            }
        })
        .collect_view();
    Some(view! {
        <section id="drift" aria-labelledby="drift-heading">
            <h2 id="drift-heading">"Drift since approval"</h2>
            <ul class="drift">{events}</ul>
        </section>
    })
}

fn signoff_section(r: &Review, can_team: bool, can_platform: bool) -> impl IntoView + use<> {
    let ready = r.progress.ready();
    let open = r.state == "open";
    let rid = r.id.to_string();
    let side = |s: SignoffSide, label: &'static str, button: &'static str, may: bool| {
        let signed = r.signoffs.iter().find(|x| x.side == s).cloned();
        // A signature given before the answers changed no longer counts: its side signs again.
        let (signed, lapsing) = match signed {
            Some(x) if !x.current => (None, Some(x)),
            other => (other, None),
        };
        let lapsing = lapsing.map(|x| {
            view! {
                <p class="signed lapsing">"Signed by "<strong class="signed-by">{x.signed_by}</strong>" on "
                    {when(x.signed_at)}", but the answers changed since: this side signs again."</p>
            }
        });
        let rid = rid.clone();
        let body = match signed {
            Some(x) => view! {
                <p class="signed">"Signed by "<strong class="signed-by">{x.signed_by}</strong>" on "{when(x.signed_at)}</p>
            }
            .into_any(),
            None if open && may && ready => view! {
                <PostForm action=SignOff::url()>
                    <input type="hidden" name="review_id" value=rid/>
                    <input type="hidden" name="side" value=s.as_str()/>
                    <button type="submit" class="primary" id=format!("sign-off-{}", s.as_str())>{button}</button>
                </PostForm>
            }
            .into_any(),
            None if open && may => view! {
                <p class="muted">"You can sign once every required item has passed, is waived or does not apply."</p>
            }
            .into_any(),
            None => view! { <p class="muted">"Not signed."</p> }.into_any(),
        };
        view! {
            <div class="signoff-side" id=format!("signoff-{}", s.as_str())>
                <h3>{label}</h3>
                {lapsing}
                {body}
            </div>
        }
    };
    view! {
        <section id="signoff" aria-labelledby="signoff-heading">
            <h2 id="signoff-heading">"Sign-off"</h2>
            <div class="signoff">
                {side(SignoffSide::Team, "Application team", "Sign off for the team", can_team)}
                {side(SignoffSide::Platform, "Platform team", "Sign off for the platform", can_platform)}
            </div>
        </section>
    }
}

fn summary_text(s: &RunSummary) -> impl IntoView + use<> {
    view! {
        <span class="count-pass">{format!("{} passed", s.pass)}</span>" · "
        <span class="count-warn">{format!("{} warnings", s.warn)}</span>" · "
        <span class="count-fail">{format!("{} failed", s.fail)}</span>" · "
        <span class="count-na">{format!("{} not applicable", s.not_applicable)}</span>" · "
        <span class="count-error">{format!("{} errors", s.error)}</span>
    }
}

fn run_state_label(state: &str) -> &'static str {
    match state {
        "queued" => "Queued",
        "running" => "Running",
        "succeeded" => "Finished",
        "failed" => "Failed",
        _ => "Unknown",
    }
}

fn run_panel(run: RunResource) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match run.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Ok(Some(r)) => run_view(r).into_any(),
                }
            })}
        </Transition>
    }
}

fn run_view(r: VerificationRun) -> impl IntoView {
    let finished = r.is_finished();
    let p = r.progress.clone();
    let heading = match r.state.as_str() {
        "queued" => "Verification queued",
        "running" => "Verifying…",
        "succeeded" => "Verification finished",
        _ => "Verification failed",
    };
    let step = if p.step.is_empty() {
        "Waiting for a worker…".to_owned()
    } else {
        p.step.clone()
    };
    let reload = format!("/golive/reviews/{}?run={}#verification", r.review_id, r.id);
    view! {
        // While the run is not finished, the enhancer re-reads this panel every second.
        <div class="run-panel" id="run-panel" data-run-id=r.id.to_string() data-run-state=r.state.clone()
            data-poll=(!finished).then_some("1000") role="status" aria-live="polite">
            <h3>{heading}</h3>
            <p class="muted">{format!("{} run requested by {} · ", r.trigger, r.requested_by)}{when(r.created_at)}</p>
            {(!finished).then(|| view! {
                <progress id="run-progress" max=p.total.max(1).to_string()
                    value=(p.total > 0).then(|| p.done.to_string()) aria-label="Verification progress"></progress>
                <p id="run-step">{step}</p>
                <p id="run-count">{format!("{} of {} steps", p.done, p.total)}</p>
                <p class="no-print"><a href=reload>"Reload"</a></p>
            })}
            {r.summary.as_ref().map(|s| view! { <p id="run-summary" class="run-summary">{summary_text(s)}</p> })}
            {r.error.clone().map(|e| view! { <p class="alert alert-error" id="run-error">{e}</p> })}
            {r.source.clone().map(|s| view! { <p class="muted run-source">{source_text(s)}</p> })}
        </div>
    }
}

/// Where results were read from and when: "Read from cluster Production (Kubernetes v1.31.4)
/// at ...".
fn source_text(s: SourceInfo) -> impl IntoView {
    let read = if s.kind == "report" {
        // Results a pipeline computed and posted: Demarc did not read those objects.
        format!("Reported by a pipeline that read {}", s.name)
    } else {
        format!("Read from {} {}", s.kind, s.name)
    };
    view! {
        {read}
        {s.server_version.map(|v| format!(" (Kubernetes {v})"))}" at "{when(s.read_at)}
    }
}

fn runs_table(runs: &[VerificationRun]) -> impl IntoView + use<> {
    if runs.is_empty() {
        return view! { <p class="empty" id="no-runs">"Not verified yet."</p> }.into_any();
    }
    view! {
        <h3>"History"</h3>
        <div class="table-scroll">
            <table id="runs">
                <thead><tr><th>"Trigger"</th><th>"State"</th><th>"Requested by"</th><th>"Started"</th><th>"Finished"</th><th>"Summary"</th></tr></thead>
                <tbody>
                    {runs.iter().map(|r| view! {
                        <tr class="run-row" data-run-id=r.id.to_string() data-state=r.state.clone()>
                            <td><a href=format!("/golive/reviews/{}?run={}#verification", r.review_id, r.id)>{r.trigger.clone()}</a></td>
                            <td>{run_state_label(&r.state)}{r.error.clone().map(|e| view! { <br/><span class="muted">{e}</span> })}</td>
                            <td>{r.requested_by.clone()}</td>
                            <td>{when(r.started_at.unwrap_or(r.created_at))}</td>
                            <td>{r.finished_at.map(when)}</td>
                            <td>{r.summary.as_ref().map(summary_text)}
                                {(!r.applied).then(|| view! { <br/><span class="muted">"Kept as evidence: the live cluster decides the items."</span> })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

fn item_view(i: ReviewItem, ctx: ItemCtx) -> impl IntoView {
    let def = i.definition.clone();
    let key = i.key.clone();
    let check = def.check;
    let guidance = [
        ("Why it matters", def.why.clone()),
        ("How to check", def.how_to_check.clone()),
        ("Desired outcome", def.desired.clone()),
        ("How to fix", def.how_to_fix.clone()),
    ]
    .into_iter()
    .filter(|(_, text)| !text.is_empty())
    .map(|(label, text)| view! { <dt>{label}</dt><dd class="prewrap">{text}</dd> })
    .collect_view();
    let attestation = i.attestation.clone().map(|a| {
        view! {
            <div class="attestation">
                <p class="muted">"Attested by "{a.by.clone()}" on "{when(a.at)}</p>
                {(!a.note.is_empty()).then(|| view! { <p class="prewrap attestation-note">{a.note.clone()}</p> })}
                {(!a.link.is_empty()).then(|| view! {
                    <p><a href=a.link.clone() rel="external nofollow noopener" class="evidence-link">{a.link.clone()}</a></p>
                })}
                {a.file_name.clone().map(|f| view! {
                    <p class="evidence-file">"File: "
                        {match a.file_id {
                            Some(id) => view! { <a href=format!("/api/v1/golive/files/{id}") download=f.clone()>{f.clone()}</a> }.into_any(),
                            None => f.into_any(),
                        }}
                    </p>
                })}
            </div>
        }
    });
    let waiver = i.waiver.clone().map(|w| waiver_view(w, &key, &ctx));
    let results = (!i.results.is_empty()).then(|| item_results(&i, &ctx));
    let checked = i.checked_at.map(|at| {
        let run_link = i.run_id.map(|run| {
            view! { " · "<a href=format!("/golive/reviews/{}?run={run}#verification", ctx.review_id)>"the run"</a> }
        });
        view! { <p class="muted checked-at">"Checked "{when(at)}{run_link}</p> }
    });
    let source = i
        .source
        .clone()
        .map(|s| view! { <p class="muted item-source">{source_text(s)}</p> });
    let forms = (!ctx.frozen).then(|| item_forms(&i, &ctx));
    view! {
        <li class="golive-item" id=format!("item-{key}") data-key=key.clone() data-status=i.status.as_str()
            data-required=if def.required { "true" } else { "false" }>
            <div class="item-head">
                {status_badge(i.status)}
                <strong class="item-title">{def.title.clone()}</strong>
                <span class="tag">{if def.required { "Required" } else { "Optional" }}</span>
                {match check {
                    Some(c) => view! { <code class="check-id">{c.as_str()}</code> }.into_any(),
                    None => view! { <span class="tag manual">"Manual"</span> }.into_any(),
                }}
            </div>
            {i.outcome.map(|o| view! {
                <p class="item-outcome">{outcome_badge(o)}" "<span class="item-message">{i.message.clone()}</span></p>
            })}
            {(!i.reason.is_empty()).then(|| view! { <p class="item-reason">{i.reason.clone()}</p> })}
            {attestation}
            {waiver}
            <details class="item-details" open=ctx.frozen>
                <summary>"Details"</summary>
                <dl class="guidance">{guidance}</dl>
                {results}
                {checked}
                {source}
                <p class="muted">{format!("Last changed by {} on ", i.updated_by)}{when(i.updated_at)}</p>
            </details>
            {forms}
        </li>
    }
}

fn waiver_view(w: Waiver, key: &str, ctx: &ItemCtx) -> impl IntoView + use<> {
    let expired = w.has_expired(ctx.now);
    let revoke = (ctx.can_manage && ctx.live && !ctx.frozen && w.revoked_at.is_none() && !expired)
        .then(|| {
            view! { <RevokeForm review_id=ctx.review_id.clone() waiver_id=w.id.to_string() key=key.to_owned()/> }
        });
    view! {
        <div class="waiver" class:expired=expired>
            <p>
                <strong>"Waiver"</strong>
                {expired.then(|| view! { <span class="badge waiver-expired">"expired"</span> })}
                {w.runs_out_soon(ctx.now).then(|| view! { <span class="badge waiver-ending">"runs out soon"</span> })}
                " approved by "<span class="waiver-approver">{w.approved_by.clone()}</span>
                " until "<span class="waiver-expiry">{when(w.expires_at)}</span>
            </p>
            <p class="prewrap waiver-reason">{w.reason.clone()}</p>
            {revoke}
        </div>
    }
}

/// How urgently a result needs a look: errors and failures first.
fn attention(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Error => 0,
        Outcome::Fail => 1,
        Outcome::Warn => 2,
        Outcome::Pass => 3,
        Outcome::NotApplicable => 4,
    }
}

/// An item's results: all of them in frozen evidence or when asked for, else the
/// [`RESULTS_SHOWN`] that most need attention, with a way to the rest.
fn item_results(i: &ReviewItem, ctx: &ItemCtx) -> impl IntoView + use<> {
    let total = i.results.len();
    if ctx.frozen || total <= RESULTS_SHOWN || ctx.show_all.as_deref() == Some(i.key.as_str()) {
        return results_table(&i.results).into_any();
    }
    let mut shown: Vec<CheckResult> = i.results.clone();
    shown.sort_by_key(|r| attention(r.outcome));
    shown.truncate(RESULTS_SHOWN);
    let failing = i
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail | Outcome::Error))
        .count();
    let all = format!(
        "/golive/reviews/{}?all={}#item-{}",
        ctx.review_id, i.key, i.key
    );
    view! {
        <p class="results-shown">
            {format!(
                "The {RESULTS_SHOWN} of {total} results that most need attention ({failing} failing or in error). "
            )}
            <a href=all>{format!("Show all {total}")}</a>
        </p>
        {results_table(&shown)}
    }
    .into_any()
}

fn results_table(results: &[CheckResult]) -> impl IntoView + use<> {
    view! {
        <div class="table-scroll">
            <table class="check-results">
                <thead><tr><th>"Object"</th><th>"Outcome"</th><th>"Message"</th><th>"Evidence"</th></tr></thead>
                <tbody>
                    {results.iter().map(|r| {
                        let objects = r.evidence.objects.iter().map(|o| view! {
                            <li>{o.to_string()}{o.resource_version.clone().map(|v| view! { <span class="muted">{format!(" (resourceVersion {v})")}</span> })}</li>
                        }).collect_view();
                        let values = r.evidence.values.iter().map(|(k, v)| view! {
                            <li><code>{k.clone()}</code>" = "<code>{v.to_string()}</code></li>
                        }).collect_view();
                        view! {
                            <tr class="check-result" data-outcome=r.outcome.as_str()>
                                <td>{r.subject.to_string()}</td>
                                <td>{outcome_badge(r.outcome)}</td>
                                <td>{r.message.clone()}</td>
                                <td>
                                    <ul class="evidence-objects">{objects}</ul>
                                    <ul class="evidence-values">{values}</ul>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn item_forms(i: &ReviewItem, ctx: &ItemCtx) -> impl IntoView + use<> {
    let automatic = i.definition.is_automatic();
    let attest = (ctx.open && ctx.can_work).then(|| {
        if automatic {
            if i.recorded_status == ItemStatus::NotApplicable {
                view! { <PendingForm review_id=ctx.review_id.clone() item=i.clone()/> }.into_any()
            } else {
                view! {
                    <details class="item-form">
                        <summary>"Mark not applicable"</summary>
                        <NotApplicableForm review_id=ctx.review_id.clone() item=i.clone()/>
                    </details>
                }
                .into_any()
            }
        } else {
            view! {
                <details class="item-form">
                    <summary>"Record the outcome"</summary>
                    <AttestForm review_id=ctx.review_id.clone() item=i.clone()/>
                </details>
                <details class="item-form">
                    <summary>"Passed: attach a file as evidence"</summary>
                    <EvidenceFileForm review_id=ctx.review_id.clone() item=i.clone()/>
                </details>
            }
            .into_any()
        }
    });
    let waive = (ctx.live && ctx.can_manage && !i.recorded_status.is_done()).then(|| {
        view! {
            <details class="item-form">
                <summary>"Waive"</summary>
                <WaiveForm review_id=ctx.review_id.clone() key=i.key.clone() now=ctx.now/>
            </details>
        }
    });
    view! { <div class="item-forms no-print">{attest}{waive}</div> }
}

#[component]
fn AttestForm(review_id: String, item: ReviewItem) -> impl IntoView {
    let key = item.key.clone();
    let prefix = format!("{key}-");
    let status_id = format!("field-{key}-status");
    let current = item.recorded_status;
    let attestation = item.attestation.clone();
    let note = if current == ItemStatus::NotApplicable {
        item.reason.clone()
    } else {
        attestation
            .as_ref()
            .map(|a| a.note.clone())
            .unwrap_or_default()
    };
    let link = attestation.map(|a| a.link).unwrap_or_default();
    let options = [
        ItemStatus::Pending,
        ItemStatus::Passed,
        ItemStatus::Failed,
        ItemStatus::NotApplicable,
    ];
    view! {
        <PostForm action=AttestItem::url() class="attest-form" form_key=key.clone()>
            <input type="hidden" name="review_id" value=review_id/>
            <input type="hidden" name="key" value=key.clone()/>
            <input type="hidden" name="version" value=item.version.to_string()/>
            <div class="field" class:invalid=field_error("status").is_some()>
                <label for=status_id.clone()>"Outcome"</label>
                <select id=status_id name="status">
                    {options.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=s == current>{s.label()}</option>
                    }).collect_view()}
                </select>
                <p class="field-error">{field_error("status")}</p>
            </div>
            <TextArea label="Evidence, or why it does not apply" name="note" value=note
                hint="What was done and what came out. A note, a link or both." prefix=prefix.clone()/>
            <TextField label="Link to the evidence" name="link" value=link
                hint="A report, ticket or dashboard (http or https)." prefix=prefix.clone()/>
            <button type="submit" class="primary" id=format!("attest-{key}")>"Save the outcome"</button>
        </PostForm>
    }
}

/// A manual item passed, with a file (a test report, a screenshot) as its evidence. A plain
/// multipart post, which the browser sends itself (see `server::forms`).
#[component]
fn EvidenceFileForm(review_id: String, item: ReviewItem) -> impl IntoView {
    let key = item.key.clone();
    let file_id = format!("field-{key}-file");
    view! {
        <PostForm action="/golive/evidence" class="evidence-form" form_key=key.clone() multipart=true>
            <input type="hidden" name="review_id" value=review_id/>
            <input type="hidden" name="key" value=key.clone()/>
            <input type="hidden" name="version" value=item.version.to_string()/>
            <div class="field" class:invalid=field_error("file").is_some()>
                <label for=file_id.clone()>"File"</label>
                <input type="file" id=file_id name="file" required=true
                    aria-describedby=format!("field-{key}-file-hint")/>
                <p class="hint" id=format!("field-{key}-file-hint")>"At most 10 MiB. Kept with the review; the audit log keeps its SHA-256."</p>
                <p class="field-error">{field_error("file")}</p>
            </div>
            <TextArea label="What the file shows" name="note" value=String::new()
                hint="Optional: a line on what was done and what came out." prefix=format!("{key}-file-")/>
            <button type="submit" class="primary" id=format!("attest-file-{key}")>"Upload and mark passed"</button>
        </PostForm>
    }
}

#[component]
fn NotApplicableForm(review_id: String, item: ReviewItem) -> impl IntoView {
    let key = item.key.clone();
    view! {
        <PostForm action=AttestItem::url() class="not-applicable-form" form_key=key.clone()>
            <input type="hidden" name="review_id" value=review_id/>
            <input type="hidden" name="key" value=key.clone()/>
            <input type="hidden" name="version" value=item.version.to_string()/>
            <input type="hidden" name="status" value="not_applicable"/>
            <TextArea label="Why this item does not apply" name="note" prefix=format!("{key}-na-")/>
            <button type="submit" class="secondary" id=format!("not-applicable-{key}")>"Mark not applicable"</button>
        </PostForm>
    }
}

#[component]
fn PendingForm(review_id: String, item: ReviewItem) -> impl IntoView {
    let key = item.key.clone();
    view! {
        <PostForm action=AttestItem::url() class="pending-form" form_key=key.clone()>
            <input type="hidden" name="review_id" value=review_id/>
            <input type="hidden" name="key" value=key.clone()/>
            <input type="hidden" name="version" value=item.version.to_string()/>
            <input type="hidden" name="status" value="pending"/>
            <button type="submit" class="secondary" id=format!("pending-{key}")>"It applies after all: count it again"</button>
        </PostForm>
    }
}

#[component]
fn WaiveForm(review_id: String, key: String, now: DateTime<Utc>) -> impl IntoView {
    let prefix = format!("{key}-waiver-");
    let default_expiry = (now + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    view! {
        <PostForm action=WaiveItem::url() class="waive-form" form_key=key.clone()>
            <input type="hidden" name="review_id" value=review_id/>
            <input type="hidden" name="key" value=key.clone()/>
            <TextArea label="Why the item may be waived" name="reason"
                hint="What makes the risk acceptable, and what will fix it before the waiver ends." prefix=prefix.clone()/>
            <TextField label="Waived until (end of day, UTC)" name="expires_at" input_type="date" value=default_expiry
                hint="At most a year. When it ends the item counts as failing again." prefix=prefix.clone()/>
            <button type="submit" class="primary" id=format!("waive-{key}")>"Waive"</button>
        </PostForm>
    }
}

#[component]
fn RevokeForm(review_id: String, waiver_id: String, key: String) -> impl IntoView {
    view! {
        <PostForm action=RevokeWaiver::url() class="revoke-form no-print" form_key=waiver_id.clone()>
            <input type="hidden" name="review_id" value=review_id/>
            <input type="hidden" name="waiver_id" value=waiver_id/>
            <button type="submit" class="secondary" id=format!("revoke-waiver-{key}")>"Revoke the waiver"</button>
        </PostForm>
    }
}

/// `/golive/reviews/:id/frozen`: the evidence as it was at sign-off, read-only and printable.
#[component]
pub fn FrozenReviewPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_frozen,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Frozen evidence"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => frozen_view(d).into_any(),
                }
            })}
        </Suspense>
    }
}

fn frozen_view(d: FrozenPageData) -> impl IntoView {
    let r = d.review;
    let f = d.frozen;
    let c = r.context.clone();
    let ctx = ItemCtx {
        review_id: r.id.to_string(),
        now: f.approved_at,
        open: false,
        live: false,
        can_work: false,
        can_manage: false,
        frozen: true,
        show_all: None,
    };
    let progress = domain::golive::model::Progress::of(&f.items);
    view! {
        <Title text=format!("Go-live evidence of {} on {}", c.application_name, c.environment_name)/>
        <div class="page-head">
            <h1>"Go-live evidence: "{c.application_name.clone()}" on "{c.environment_name.clone()}</h1>
            <div class="actions no-print">
                <a class="button secondary" href=format!("/golive/reviews/{}", r.id) id="back-to-review">"The review now"</a>
            </div>
        </div>
        <p class="revision-line" id="frozen-approved">"Approved for go-live on "{when(f.approved_at)}
            {format!(" · checklist version {} of {}", r.template_version, c.platform_name)}</p>
        <p class="muted">"This is the evidence exactly as it was when both sides signed off. It does not change."</p>
        {review_facts(&r)}
        <section id="frozen-signoffs">
            <h2>"Signed off by"</h2>
            <ul>
                {f.signoffs.iter().map(|s| view! {
                    <li data-side=s.side.as_str()>
                        {match s.side { SignoffSide::Team => "Application team: ", SignoffSide::Platform => "Platform team: " }}
                        <strong>{s.signed_by.clone()}</strong>" on "{when(s.signed_at)}
                    </li>
                }).collect_view()}
            </ul>
        </section>
        <section id="frozen">
            <h2>"Items"</h2>
            {progress_bar(&progress, Some("frozen-progress".to_owned()))}
            <ol class="golive-items" id="frozen-items">
                {f.items.into_iter().map(|i| item_view(i, ctx.clone())).collect_view()}
            </ol>
        </section>
    }
}
