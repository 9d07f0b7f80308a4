//! Scope and demarcation: the fence of each platform, its RACI matrix and tenant rules, the
//! draft editor, revisions and their differences, acknowledgements, and the audits of what is
//! outside the fence.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::scope::{
    AcknowledgeScope, ApplyScopeTemplate, DeleteScopeItem, DeleteTenantRule, PublishScope,
    SaveScopeAudit, SaveScopeItem, SaveScopeTemplate, SaveTenantRule, load_scope, load_scope_audit,
    load_scope_audits, load_scope_diff, load_scope_draft, load_scope_index,
};
use crate::components::{
    ErrorBox, PostForm, TextArea, TextField, field_error, field_errors_of, when,
};
use domain::scope::{
    AUDIT_ASPECTS, AuditStatus, Party, ScopeAudit, ScopeContent, ScopeDiff, ScopeItem, TenantRule,
    raci_letters,
};

fn party_label(p: &Party) -> impl IntoView + use<> {
    let external = p.is_external();
    let label = p.label();
    view! { <span class="party" class:external=external>{label}</span> }
}

fn parties(list: &[Party]) -> String {
    list.iter()
        .map(Party::as_input)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `/scope`: every platform's current revision and who still has to acknowledge it.
#[component]
pub fn ScopeIndexPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_scope_index());
    view! {
        <Title text="Scope"/>
        <div class="page-head">
            <h1>"Scope and demarcation"</h1>
            <a class="button secondary" href="/scope/audits">"Audits outside the fence"</a>
        </div>
        <p class="muted">"Per platform: what the platform team is responsible for, who owns what is outside, and which teams have acknowledged the current revision."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => view! {
                        {(!d.pending.is_empty()).then(|| view! {
                            <section class="alert alert-info" id="pending-acknowledgements">
                                <h2>"Waiting for your team"</h2>
                                <ul>
                                    {d.pending.into_iter().map(|p| view! {
                                        <li>
                                            <a href=format!("/platforms/{}/scope", p.platform_id)>{p.platform_name}</a>
                                            ": "{p.team_name}" has not acknowledged revision "{p.latest_revision}
                                            {p.acknowledged_revision.map(|r| format!(" (last acknowledged: {r})"))}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </section>
                        })}
                        {if d.platforms.is_empty() {
                            view! { <p class="empty">"No platforms yet."</p> }.into_any()
                        } else {
                            view! {
                                <table>
                                    <thead><tr><th>"Platform"</th><th>"Current revision"</th><th>"Not acknowledged by"</th><th>"Draft"</th></tr></thead>
                                    <tbody>
                                        {d.platforms.into_iter().map(|s| {
                                            let href = format!("/platforms/{}/scope", s.platform.id);
                                            view! {
                                                <tr>
                                                    <td><a href=href>{s.platform.name}</a></td>
                                                    <td>{match s.latest {
                                                        Some(r) => view! { "Revision "{r.number}", "{when(r.published_at)} }.into_any(),
                                                        None => view! { <span class="muted">"Nothing published"</span> }.into_any(),
                                                    }}</td>
                                                    <td>{if s.unacknowledged.is_empty() { "—".to_owned() } else { s.unacknowledged.join(", ") }}</td>
                                                    <td>{s.draft_has_changes.then_some("Unpublished changes")}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The fence: what is inside and what is outside, side by side.
#[component]
fn Fence(content: ScopeContent) -> impl IntoView {
    let card = |i: ScopeItem| {
        let escalation = (!i.inside && !i.escalation_contact.is_empty()).then(
            || view! { <p><strong>"Escalation: "</strong>{i.escalation_contact.clone()}</p> },
        );
        let missing = (!i.inside && i.escalation_contact.is_empty())
            .then(|| view! { <p class="warning">"No escalation contact recorded."</p> });
        view! {
            <li class="scope-item">
                <h4>{i.name.clone()}{(!i.category.is_empty()).then(|| view! { <span class="badge">{i.category.clone()}</span> })}</h4>
                <p><strong>{if i.inside { "Responsible: " } else { "Owner: " }}</strong>{party_label(&i.responsible)}</p>
                {escalation}
                {missing}
                {(!i.notes.is_empty()).then(|| view! { <p class="muted">{i.notes.clone()}</p> })}
            </li>
        }
    };
    let inside: Vec<ScopeItem> = content.inside().cloned().collect();
    let outside: Vec<ScopeItem> = content.outside().cloned().collect();
    view! {
        <div class="fence">
            <section class="side inside" aria-labelledby="inside-heading">
                <h3 id="inside-heading">"Inside the fence"<span class="muted">" · the platform team's responsibility"</span></h3>
                {if inside.is_empty() { view! { <p class="empty">"Nothing."</p> }.into_any() } else {
                    view! { <ul>{inside.into_iter().map(card).collect_view()}</ul> }.into_any()
                }}
            </section>
            <section class="side outside" aria-labelledby="outside-heading">
                <h3 id="outside-heading">"Outside the fence"<span class="muted">" · owned by someone else, named"</span></h3>
                {if outside.is_empty() { view! { <p class="empty">"Nothing."</p> }.into_any() } else {
                    view! { <ul>{outside.into_iter().map(card).collect_view()}</ul> }.into_any()
                }}
            </section>
        </div>
    }
}

/// The RACI matrix: activities down, parties across.
#[component]
fn RaciMatrix(content: ScopeContent) -> impl IntoView {
    let columns = content.raci_parties();
    if columns.is_empty() {
        return view! { <p class="empty">"No activities have a RACI yet."</p> }.into_any();
    }
    let header = columns
        .iter()
        .map(|p| view! { <th scope="col">{party_label(p)}</th> })
        .collect_view();
    let rows = content
        .items
        .iter()
        .flat_map(|i| i.raci.iter().map(move |r| (i, r)))
        .map(|(item, row)| {
            let cells = columns
                .iter()
                .map(|p| {
                    let letters = raci_letters(row, p);
                    let accountable = letters.contains('A');
                    view! { <td class="raci-cell" class:accountable=accountable>{letters}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row"><span class="muted">{item.name.clone()}" · "</span>{row.activity.clone()}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="raci" id="raci-matrix">
                <thead><tr><th>"Activity"</th>{header}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p class="hint">"R: does the work · A: answers for the outcome (exactly one) · C: asked before · I: told after"</p>
    }
    .into_any()
}

/// The rules for tenants.
#[component]
fn Rules(rules: Vec<TenantRule>) -> impl IntoView {
    if rules.is_empty() {
        return view! { <p class="empty">"No rules for tenants recorded."</p> }.into_any();
    }
    view! {
        <ol class="rules">
            {rules.into_iter().map(|r| view! {
                <li>
                    <strong>{r.title}</strong>
                    {(!r.description.is_empty()).then(|| view! { <p>{r.description}</p> })}
                    <p><em>"Why: "</em>{r.reason}</p>
                    {(!r.exception_process.is_empty()).then(|| view! { <p><em>"Exceptions: "</em>{r.exception_process}</p> })}
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// A readable list of changes.
#[component]
fn Changes(diff: ScopeDiff) -> impl IntoView {
    if diff.is_empty() {
        return view! { <p class="empty" id="no-changes">"No differences."</p> }.into_any();
    }
    let list = |title: &'static str, changes: Vec<domain::scope::Change>| {
        (!changes.is_empty()).then(|| view! {
            <h3>{title}</h3>
            <ul class="changes-list">
                {changes.into_iter().map(|c| {
                    let kind = c.kind.label();
                    let class = format!("change change-{}", kind.to_lowercase());
                    view! {
                        <li class=class>
                            <span class="badge">{kind}</span>" "<strong>{c.name}</strong>
                            <table class="field-diff">
                                <thead><tr><th>"Field"</th><th>"Before"</th><th>"After"</th></tr></thead>
                                <tbody>
                                    {c.fields.into_iter().map(|f| view! {
                                        <tr><td>{f.field}</td><td class="before">{f.before}</td><td class="after">{f.after}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })
    };
    view! {
        <div class="diff-view">
            {list("Items", diff.items)}
            {list("Rules for tenants", diff.rules)}
        </div>
    }
    .into_any()
}

/// `/platforms/:id/scope`: the published scope (current, a revision, or as of a date).
#[component]
pub fn ScopePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (
                params.read().get("id").unwrap_or_default(),
                q.get("revision"),
                q.get("as_of"),
            )
        },
        |(id, revision, as_of)| load_scope(id, revision, as_of),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Scope"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => scope_page(d).into_any(),
                }
            })}
        </Suspense>
    }
}

fn scope_page(d: crate::api::scope::ScopePageData) -> impl IntoView {
    let v = d.view;
    let pid = v.platform_id;
    let base = format!("/platforms/{pid}/scope");
    let mut selector = Vec::new();
    if let Some(r) = &v.revision {
        selector.push(format!("revision={}", r.number));
    }
    let qs = selector.join("&");
    let statement = match (&v.as_of, &v.revision) {
        (Some(at), _) => format!("{base}/statement?as_of={}", at.format("%Y-%m-%d")),
        (None, Some(r)) => format!("{base}/statement?revision={}", r.number),
        _ => format!("{base}/statement"),
    };
    let api = format!("/api/v1/platforms/{pid}/scope");
    let json = if qs.is_empty() {
        api.clone()
    } else {
        format!("{api}?{qs}")
    };
    let csv = if qs.is_empty() {
        format!("{api}/export.csv")
    } else {
        format!("{api}/export.csv?{qs}")
    };
    let latest = v.latest_revision;
    let heading = match (&v.revision, &v.as_of) {
        (Some(r), Some(at)) => format!(
            "As of {}: revision {} (published {})",
            at.format("%Y-%m-%d %H:%M UTC"),
            r.number,
            r.published_at.format("%Y-%m-%d")
        ),
        (None, Some(at)) => format!(
            "As of {}: nothing had been published yet",
            at.format("%Y-%m-%d %H:%M UTC")
        ),
        (Some(r), None) => format!(
            "Revision {} · published {} by {}",
            r.number,
            r.published_at.format("%Y-%m-%d %H:%M UTC"),
            r.published_by
        ),
        (None, None) => "Nothing published yet".to_owned(),
    };
    let old = matches!((&v.revision, latest), (Some(r), Some(l)) if r.number < l);
    let summary = v.revision.as_ref().map(|r| r.summary.clone());
    let current = latest.unwrap_or(0);
    let my_teams = d.my_teams;
    let banners = my_teams
        .into_iter()
        .filter(|t| !t.up_to_date && current > 0)
        .map(|t| {
            let diff = match t.acknowledged_revision {
                Some(r) => format!("{base}/diff?from={r}&to={current}"),
                None => format!("{base}/diff?to={current}"),
            };
            let said = match t.acknowledged_revision {
                Some(r) => format!("{} last acknowledged revision {r}; the current revision is {current}.", t.team_name),
                None => format!("{} has not acknowledged this platform's scope yet; the current revision is {current}.", t.team_name),
            };
            view! {
                <div class="alert alert-info acknowledge no-print">
                    <p>{said}" "<a href=diff>"See what changed"</a></p>
                    <PostForm action=AcknowledgeScope::url() class="inline-form">
                        <input type="hidden" name="platform_id" value=pid.to_string()/>
                        <input type="hidden" name="team_id" value=t.team_id.to_string()/>
                        <input type="hidden" name="revision" value=current.to_string()/>
                        <button type="submit" class="primary" id=format!("acknowledge-{}", t.team_slug)>
                            {format!("Acknowledge revision {current} for {}", t.team_name)}
                        </button>
                    </PostForm>
                </div>
            }
        })
        .collect_view();
    let revisions = d.revisions;
    let acks = d.acknowledgements;
    let as_of_value = v
        .as_of
        .map(|a| a.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    view! {
        <Title text=format!("Scope of {}", v.platform_name)/>
        <div class="page-head">
            <h1>"Scope of "<a href=format!("/platforms/{pid}")>{v.platform_name.clone()}</a></h1>
            <div class="actions no-print">
                {d.can_edit.then(|| view! { <a class="button" href=format!("{base}/draft") id="edit-draft">"Edit draft"</a> })}
                <a class="button secondary" href=statement id="print-statement" rel="external">"Printable statement"</a>
                <a class="button secondary" href=csv rel="external">"CSV"</a>
                <a class="button secondary" href=json rel="external">"JSON"</a>
            </div>
        </div>
        <p class="revision-line" id="revision-line">{heading}</p>
        {summary.map(|s| view! { <p class="summary">{s}</p> })}
        {old.then(|| view! {
            <p class="alert alert-info">"This is not the current revision. "<a href=base.clone()>"Show the current one"</a></p>
        })}
        {banners}
        <div class="scope-filters no-print">
            <form method="get" class="inline-form">
                <div class="field">
                    <label for="as-of">"Scope as of"</label>
                    <input type="date" id="as-of" name="as_of" value=as_of_value/>
                </div>
                <button type="submit">"Show"</button>
            </form>
            {(!revisions.is_empty()).then(|| view! {
                <form method="get" class="inline-form">
                    <div class="field">
                        <label for="revision">"Revision"</label>
                        <select id="revision" name="revision">
                            {revisions.iter().map(|r| view! {
                                <option value=r.number.to_string() selected=Some(r.number) == v.revision.as_ref().map(|x| x.number)>
                                    {format!("{} · {}", r.number, r.published_at.format("%Y-%m-%d"))}
                                </option>
                            }).collect_view()}
                        </select>
                    </div>
                    <button type="submit">"Show"</button>
                </form>
            })}
        </div>
        <h2>"The fence"</h2>
        <Fence content=v.content.clone()/>
        <h2>"Who does what (RACI)"</h2>
        <RaciMatrix content=v.content.clone()/>
        <h2>"Rules for tenants"</h2>
        <Rules rules=v.content.rules.clone()/>
        <h2>"Acknowledgements"</h2>
        {if acks.is_empty() {
            view! { <p class="empty">"No application team runs on this platform yet."</p> }.into_any()
        } else {
            view! {
                <table id="acknowledgements">
                    <thead><tr><th>"Team"</th><th>"Applications here"</th><th>"Acknowledged"</th><th>"By"</th><th>"State"</th></tr></thead>
                    <tbody>
                        {acks.into_iter().map(|a| view! {
                            <tr>
                                <td>{a.team_name}</td>
                                <td>{a.applications}</td>
                                <td>{a.acknowledged_revision.map(|r| format!("Revision {r}")).unwrap_or_else(|| "Never".into())}
                                    {a.acknowledged_at.map(|t| view! { " · "{when(t)} })}</td>
                                <td>{a.acknowledged_by.unwrap_or_default()}</td>
                                <td>{if a.up_to_date { view! { <span class="badge ok">"Up to date"</span> }.into_any() }
                                     else { view! { <span class="badge warn">"Behind"</span> }.into_any() }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <h2>"Revisions"</h2>
        {if revisions.is_empty() {
            view! { <p class="empty">"Nothing published yet."</p> }.into_any()
        } else {
            view! {
                <ul class="revisions">
                    {revisions.into_iter().map(|r| {
                        let diff = if r.number > 1 {
                            format!("{base}/diff?from={}&to={}", r.number - 1, r.number)
                        } else {
                            format!("{base}/diff?to=1")
                        };
                        view! {
                            <li>
                                <a href=format!("{base}?revision={}", r.number)>{format!("Revision {}", r.number)}</a>
                                " · "{when(r.published_at)}" · "{r.published_by}" · "{r.summary}
                                " · "<a href=diff>"changes"</a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

/// `/platforms/:id/scope/diff?from=N&to=M`
#[component]
pub fn ScopeDiffPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (
                params.read().get("id").unwrap_or_default(),
                q.get("from"),
                q.get("to"),
            )
        },
        |(id, from, to)| load_scope_diff(id, from, to),
    );
    let id = move || params.read().get("id").unwrap_or_default();
    view! {
        <Title text="Scope changes"/>
        <h1>"What changed in the scope"</h1>
        <p><a href=move || format!("/platforms/{}/scope", id())>"Back to the scope"</a></p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok((diff, revisions)) => {
                        let label = |r: Option<i32>, none: &str| r.map(|n| format!("revision {n}")).unwrap_or_else(|| none.to_owned());
                        let title = format!("From {} to {}", label(diff.from, "nothing published"), label(diff.to, "the draft"));
                        let options = move |selected: Option<i32>, empty: &'static str| {
                            let revisions = revisions.clone();
                            view! {
                                <option value="" selected=selected.is_none()>{empty}</option>
                                {revisions.into_iter().map(|r| view! {
                                    <option value=r.number.to_string() selected=selected == Some(r.number)>{format!("Revision {}", r.number)}</option>
                                }).collect_view()}
                            }
                        };
                        view! {
                            <form method="get" class="inline-form no-print">
                                <div class="field"><label for="from">"From"</label>
                                    <select id="from" name="from">{options(diff.from, "Nothing published")}</select></div>
                                <div class="field"><label for="to">"To"</label>
                                    <select id="to" name="to">{options(diff.to, "The draft")}</select></div>
                                <button type="submit">"Compare"</button>
                            </form>
                            <h2>{title}</h2>
                            <Changes diff=diff/>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ItemForm(
    platform_id: String,
    #[prop(optional)] item: Option<ScopeItem>,
    teams: Vec<String>,
) -> impl IntoView {
    let editing = item.is_some();
    let key = item
        .as_ref()
        .map(|i| i.id.to_string())
        .unwrap_or_else(|| "new".into());
    let list_id = format!("parties-{key}");
    let prefix = format!("{key}-");
    let mut rows: Vec<(String, String, String, String, String)> = item
        .as_ref()
        .map(|i| {
            i.raci
                .iter()
                .map(|r| {
                    (
                        r.activity.clone(),
                        parties(&r.responsible),
                        r.accountable.as_input(),
                        parties(&r.consulted),
                        parties(&r.informed),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    rows.push(Default::default());
    rows.push(Default::default());
    let inside = item.as_ref().is_none_or(|i| i.inside);
    let side_id = format!("side-{key}");
    let responsible_id = format!("responsible-{key}");
    let i = item.clone();
    let text = move |f: fn(&ScopeItem) -> String| i.as_ref().map(f).unwrap_or_default();
    view! {
        <PostForm action=SaveScopeItem::url() class="scope-item-form">
            <input type="hidden" name="platform_id" value=platform_id/>
            <input type="hidden" name="id" value=item.as_ref().map(|i| i.id.to_string()).unwrap_or_default()/>
            <input type="hidden" name="version" value=item.as_ref().map(|i| i.version.to_string()).unwrap_or_default()/>
            <datalist id=list_id.clone()>
                <option value="@platform">"Platform team"</option>
                <option value="@tenants">"Each application team"</option>
                {teams.into_iter().map(|t| view! { <option value=t/> }).collect_view()}
            </datalist>
            <div class="grid-2">
                <TextField label="Component or activity" name="name" value=text(|i| i.name.clone()) required=true prefix=prefix.clone()/>
                <TextField label="Category" name="category" value=text(|i| i.category.clone()) hint="Platform, Delivery, Identity, Infrastructure…" prefix=prefix.clone()/>
                <div class="field">
                    <label for=side_id.clone()>"Side of the fence"</label>
                    <select id=side_id name="side">
                        <option value="inside" selected=inside>"Inside: the platform team is responsible"</option>
                        <option value="outside" selected=!inside>"Outside: someone else owns it"</option>
                    </select>
                </div>
                <div class="field" class:invalid=field_error("responsible").is_some()>
                    <label for=responsible_id.clone()>"Responsible party"</label>
                    <input id=responsible_id name="responsible" list=list_id.clone()
                        value=item.as_ref().map(|i| i.responsible.as_input()).unwrap_or_default()/>
                    <p class="hint">"@platform, @tenants, a team's slug, or the name of an outside party."</p>
                    <p class="field-error">{field_error("responsible")}</p>
                </div>
                <TextField label="Escalation contact" name="escalation_contact" value=text(|i| i.escalation_contact.clone())
                    hint="Whom to call when it breaks (for what is outside)." prefix=prefix.clone()/>
                <TextField label="Order" name="position" value=item.as_ref().map(|i| i.position.to_string()).unwrap_or_else(|| "100".into())
                    input_type="number" prefix=prefix.clone()/>
            </div>
            <TextArea label="Notes" name="notes" value=text(|i| i.notes.clone()) prefix=prefix.clone()/>
            <fieldset>
                <legend>"RACI per activity"</legend>
                <p class="hint">"Separate several parties with commas. Each activity needs at least one Responsible and exactly one Accountable party. Leave a row empty to skip it."</p>
                <table class="raci-form">
                    <thead><tr><th>"Activity"</th><th>"Responsible"</th><th>"Accountable"</th><th>"Consulted"</th><th>"Informed"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().enumerate().map(|(n, (activity, r, a, c, inf))| {
                            let list = list_id.clone();
                            let row_error = field_errors_of(
                                ["activity", "responsible", "accountable"].map(|f| format!("raci.{n}.{f}")),
                            );
                            let invalid = !row_error.is_empty();
                            view! {
                                <tr class:invalid=invalid>
                                    <td><input name=format!("raci[{n}][activity]") value=activity aria-label="Activity"/></td>
                                    <td><input name=format!("raci[{n}][responsible]") value=r list=list.clone() aria-label="Responsible"/></td>
                                    <td><input name=format!("raci[{n}][accountable]") value=a list=list.clone() aria-label="Accountable"/></td>
                                    <td><input name=format!("raci[{n}][consulted]") value=c list=list.clone() aria-label="Consulted"/></td>
                                    <td><input name=format!("raci[{n}][informed]") value=inf list=list aria-label="Informed"/>
                                        <p class="field-error">{row_error}</p></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </fieldset>
            <button type="submit" class="primary" id=if editing { format!("save-{key}") } else { "add-item".to_owned() }>
                {if editing { "Save item" } else { "Add item" }}
            </button>
        </PostForm>
    }
}

#[component]
fn RuleForm(platform_id: String, #[prop(optional)] rule: Option<TenantRule>) -> impl IntoView {
    let r = rule.clone();
    let prefix = format!(
        "rule-{}-",
        rule.as_ref()
            .map(|r| r.id.to_string())
            .unwrap_or_else(|| "new".into())
    );
    let text = move |f: fn(&TenantRule) -> String| r.as_ref().map(f).unwrap_or_default();
    view! {
        <PostForm action=SaveTenantRule::url()>
            <input type="hidden" name="platform_id" value=platform_id/>
            <input type="hidden" name="id" value=rule.as_ref().map(|r| r.id.to_string()).unwrap_or_default()/>
            <input type="hidden" name="version" value=rule.as_ref().map(|r| r.version.to_string()).unwrap_or_default()/>
            <TextField label="Rule" name="title" value=text(|r| r.title.clone()) required=true prefix=prefix.clone()/>
            <TextArea label="What it means" name="description" value=text(|r| r.description.clone()) prefix=prefix.clone()/>
            <TextArea label="Why" name="reason" value=text(|r| r.reason.clone()) prefix=prefix.clone()/>
            <TextArea label="How to ask for an exception" name="exception_process" value=text(|r| r.exception_process.clone()) prefix=prefix.clone()/>
            <TextField label="Order" name="position" value=rule.as_ref().map(|r| r.position.to_string()).unwrap_or_else(|| "100".into())
                input_type="number" prefix=prefix.clone()/>
            <button type="submit" class="primary">{if rule.is_some() { "Save rule" } else { "Add rule" }}</button>
        </PostForm>
    }
}

/// `/platforms/:id/scope/draft`: edit items and rules, start from a template, publish.
#[component]
pub fn ScopeDraftPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_scope_draft,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Scope draft"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => draft_page(d).into_any(),
                }
            })}
        </Suspense>
    }
}

fn draft_page(d: crate::api::scope::DraftPageData) -> impl IntoView {
    let v = d.view;
    let pid = v.platform_id;
    let draft = v.draft.clone().unwrap_or(domain::scope::DraftInfo {
        version: 0,
        has_changes: false,
    });
    let empty = v.content.items.is_empty() && v.content.rules.is_empty();
    let can_edit = d.can_edit;
    let templates = d.templates;
    let template_list = templates.clone();
    let teams = d.teams;
    let latest = v.latest_revision;
    let items = v.content.items.clone();
    let rules = v.content.rules.clone();
    view! {
        <Title text=format!("Scope draft of {}", v.platform_name)/>
        <h1>"Draft scope of "<a href=format!("/platforms/{pid}/scope")>{v.platform_name.clone()}</a></h1>
        <p class="muted">
            {match latest { Some(n) => format!("Changes here stay in the draft until you publish them as revision {}.", n + 1),
                            None => "Nothing is published yet: publish the draft as revision 1 when it is ready.".to_owned() }}
        </p>
        {(!can_edit).then(|| view! { <p class="alert alert-info">"You can read the draft; only platform engineers edit it."</p> })}
        {(can_edit && empty).then(|| view! {
            <section class="edit" id="start-from-template">
                <h2>"Start from a template"</h2>
                <PostForm action=ApplyScopeTemplate::url() class="inline-form">
                    <input type="hidden" name="platform_id" value=pid.to_string()/>
                    <div class="field">
                        <label for="template">"Template"</label>
                        <select id="template" name="template_id">
                            {templates.iter().map(|t| view! { <option value=t.id.clone()>{t.name.clone()}</option> }).collect_view()}
                        </select>
                    </div>
                    <button type="submit" class="primary" id="apply-template">"Use this template"</button>
                </PostForm>
                <ul class="muted">{template_list.iter().map(|t| view! { <li><strong>{t.name.clone()}</strong>": "{t.description.clone()}</li> }).collect_view()}</ul>
            </section>
        })}
        <h2>"The fence"</h2>
        <Fence content=v.content.clone()/>
        <h2>"RACI matrix"</h2>
        <RaciMatrix content=v.content.clone()/>
        {can_edit.then(|| view! {
            <section class="edit no-print">
                <h2>"Items"</h2>
                {items.into_iter().map(|i| {
                    let (iid, iv, name) = (i.id.to_string(), i.version.to_string(), i.name.clone());
                    view! {
                        <details class="edit-item">
                            <summary>{format!("Edit “{name}”")}</summary>
                            <ItemForm platform_id=pid.to_string() item=i teams=teams.clone()/>
                            <PostForm action=DeleteScopeItem::url()>
                                <input type="hidden" name="platform_id" value=pid.to_string()/>
                                <input type="hidden" name="id" value=iid/>
                                <input type="hidden" name="version" value=iv/>
                                <button type="submit" class="secondary">"Remove from the draft"</button>
                            </PostForm>
                        </details>
                    }
                }).collect_view()}
                <details class="edit-item add-item" open=empty>
                    <summary>"Add an item"</summary>
                    <ItemForm platform_id=pid.to_string() teams=teams.clone()/>
                </details>
            </section>
        })}
        <h2>"Rules for tenants"</h2>
        <Rules rules=rules.clone()/>
        {can_edit.then(|| view! {
            <section class="edit no-print">
                {rules.into_iter().map(|r| {
                    let (rid, rv, title) = (r.id.to_string(), r.version.to_string(), r.title.clone());
                    view! {
                        <details class="edit-item">
                            <summary>{format!("Edit “{title}”")}</summary>
                            <RuleForm platform_id=pid.to_string() rule=r/>
                            <PostForm action=DeleteTenantRule::url()>
                                <input type="hidden" name="platform_id" value=pid.to_string()/>
                                <input type="hidden" name="id" value=rid/>
                                <input type="hidden" name="version" value=rv/>
                                <button type="submit" class="secondary">"Remove from the draft"</button>
                            </PostForm>
                        </details>
                    }
                }).collect_view()}
                <details class="edit-item">
                    <summary>"Add a rule"</summary>
                    <RuleForm platform_id=pid.to_string()/>
                </details>
            </section>
        })}
        <h2>"Changes since "{latest.map(|n| format!("revision {n}")).unwrap_or_else(|| "the start".into())}</h2>
        <Changes diff=d.changes/>
        {(can_edit && draft.has_changes).then(|| view! {
            <section class="edit no-print" id="publish">
                <h2>"Publish"</h2>
                <PostForm action=PublishScope::url()>
                    <input type="hidden" name="platform_id" value=pid.to_string()/>
                    <input type="hidden" name="draft_version" value=draft.version.to_string()/>
                    <TextArea label="Summary of the changes" name="summary" hint="Application teams read this when they acknowledge the revision."/>
                    <button type="submit" class="primary" id="publish-button">
                        {format!("Publish as revision {}", latest.unwrap_or(0) + 1)}
                    </button>
                </PostForm>
            </section>
        })}
        {(can_edit && !empty).then(|| view! {
            <section class="edit no-print">
                <h2>"Save as a template"</h2>
                <PostForm action=SaveScopeTemplate::url() class="inline-form">
                    <input type="hidden" name="platform_id" value=pid.to_string()/>
                    <TextField label="Template name" name="name"/>
                    <TextField label="Description" name="description"/>
                    <button type="submit">"Save template"</button>
                </PostForm>
            </section>
        })}
    }
}

/// `/scope/audits`: audits of what is outside the fences.
#[component]
pub fn ScopeAuditsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (q.get("platform_id"), q.get("overdue").is_some())
        },
        |(platform, overdue)| load_scope_audits(platform, overdue),
    );
    let overdue = move || query.read().get("overdue").is_some();
    view! {
        <Title text="Audits outside the fence"/>
        <h1>"Audits outside the fence"</h1>
        <p class="muted">"What is outside a platform's fence is audited too, so it does not become the weak link: application audits, and provider audits (technical, organisational and legal) every year."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => {
                        let platforms = d.platforms.clone();
                        view! {
                            <form method="get" class="filters">
                                <select name="platform_id" aria-label="Platform">
                                    <option value="">"All platforms"</option>
                                    {platforms.into_iter().map(|p| view! { <option value=p.id.to_string()>{p.name}</option> }).collect_view()}
                                </select>
                                <label><input type="checkbox" name="overdue" checked=overdue/>" Overdue only"</label>
                                <button type="submit">"Filter"</button>
                            </form>
                            {audit_table(d.audits)}
                            {d.can_edit.then(|| view! {
                                <section class="edit no-print">
                                    <h2>"Plan an audit"</h2>
                                    <AuditForm platforms=d.platforms applications=d.applications/>
                                </section>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn audit_table(audits: Vec<ScopeAudit>) -> impl IntoView {
    if audits.is_empty() {
        return view! { <p class="empty">"No audits."</p> }.into_any();
    }
    view! {
        <table id="audits">
            <thead><tr><th>"Due"</th><th>"Audit"</th><th>"Platform"</th><th>"Subject"</th><th>"State"</th></tr></thead>
            <tbody>
                {audits.into_iter().map(|a| view! {
                    <tr class:overdue=a.overdue>
                        <td>{a.due_on.to_string()}</td>
                        <td><a href=format!("/scope/audits/{}", a.id)>{a.title}</a><br/><span class="muted">{a.kind.label()}</span></td>
                        <td>{a.platform_name}</td>
                        <td>{a.subject}</td>
                        <td>{audit_state(a.status, a.overdue, a.outcome)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn audit_state(
    status: AuditStatus,
    overdue: bool,
    outcome: Option<domain::scope::AuditOutcome>,
) -> impl IntoView {
    match (status, overdue) {
        (AuditStatus::Planned, true) => {
            view! { <span class="badge warn">"Overdue"</span> }.into_any()
        }
        (AuditStatus::Planned, false) => view! { <span class="badge">"Planned"</span> }.into_any(),
        (AuditStatus::Cancelled, _) => view! { <span class="badge">"Cancelled"</span> }.into_any(),
        (AuditStatus::Completed, _) => {
            let label = outcome.map(|o| o.label()).unwrap_or("Completed");
            view! { <span class="badge ok">{label}</span> }.into_any()
        }
    }
}

#[component]
fn AuditForm(
    platforms: Vec<domain::model::Platform>,
    applications: Vec<(String, String)>,
    #[prop(optional)] audit: Option<ScopeAudit>,
) -> impl IntoView {
    let a = audit.clone();
    let editing = a.is_some();
    let kind = a.as_ref().map(|a| a.kind);
    let status = a.as_ref().map(|a| a.status).unwrap_or(AuditStatus::Planned);
    let outcome = a.as_ref().and_then(|a| a.outcome);
    let aspects = a.as_ref().map(|a| a.aspects.clone()).unwrap_or_default();
    let app_id = a
        .as_ref()
        .and_then(|a| a.application_id)
        .map(|i| i.to_string());
    let mut actions: Vec<domain::scope::FollowUpAction> =
        a.as_ref().map(|a| a.actions.clone()).unwrap_or_default();
    actions.push(Default::default());
    actions.push(Default::default());
    let text = move |f: fn(&ScopeAudit) -> String| a.as_ref().map(f).unwrap_or_default();
    view! {
        <PostForm action=SaveScopeAudit::url() class="audit-form">
            <input type="hidden" name="id" value=audit.as_ref().map(|a| a.id.to_string()).unwrap_or_default()/>
            <input type="hidden" name="version" value=audit.as_ref().map(|a| a.version.to_string()).unwrap_or_default()/>
            <div class="grid-2">
                {if editing {
                    view! { <input type="hidden" name="kind" value=kind.map(|k| k.as_str()).unwrap_or("provider")/> }.into_any()
                } else {
                    view! {
                        <div class="field" class:invalid=field_error("platform_id").is_some()>
                            <label for="audit-platform">"Platform"</label>
                            <select id="audit-platform" name="platform_id">
                                <option value="">"Choose a platform"</option>
                                {platforms.into_iter().map(|p| view! { <option value=p.id.to_string()>{p.name}</option> }).collect_view()}
                            </select>
                            <p class="field-error">{field_error("platform_id")}</p>
                        </div>
                        <div class="field">
                            <label for="audit-kind">"Kind"</label>
                            <select id="audit-kind" name="kind">
                                <option value="provider">"Provider audit"</option>
                                <option value="application">"Application audit"</option>
                            </select>
                        </div>
                    }.into_any()
                }}
                <TextField label="Title" name="title" value=text(|a| a.title.clone()) required=true/>
                <TextField label="Provider (for a provider audit)" name="subject" value=text(|a| a.subject.clone())/>
                <div class="field" class:invalid=field_error("application_id").is_some()>
                    <label for="audit-app">"Application (for an application audit)"</label>
                    <select id="audit-app" name="application_id">
                        <option value="">"None"</option>
                        {applications.into_iter().map(|(id, name)| {
                            let selected = app_id.as_deref() == Some(id.as_str());
                            view! { <option value=id selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                    <p class="field-error">{field_error("application_id")}</p>
                </div>
                <TextField label="Due on" name="due_on" input_type="date" value=text(|a| a.due_on.to_string()) required=true/>
            </div>
            <fieldset class="field" class:invalid=field_error("aspects").is_some()>
                <legend>"Aspects"</legend>
                {AUDIT_ASPECTS.iter().enumerate().map(|(n, aspect)| view! {
                    <label><input type="checkbox" name=format!("aspects[{n}]") value=*aspect checked=aspects.iter().any(|a| a == aspect)/>" "{*aspect}</label>
                }).collect_view()}
                <p class="field-error">{field_error("aspects")}</p>
            </fieldset>
            <div class="field checkbox">
                <label><input type="checkbox" name="repeats_yearly" checked=audit.as_ref().is_none_or(|a| a.repeats_yearly)/>" Repeats every year (completing it plans the next one)"</label>
            </div>
            {editing.then(|| view! {
                <fieldset>
                    <legend>"Outcome"</legend>
                    <div class="grid-2">
                        <div class="field" class:invalid=field_error("status").is_some()>
                            <label for="audit-status">"State"</label>
                            <select id="audit-status" name="status">
                                <option value="planned" selected=status == AuditStatus::Planned>"Planned"</option>
                                <option value="completed" selected=status == AuditStatus::Completed>"Completed"</option>
                                <option value="cancelled" selected=status == AuditStatus::Cancelled>"Cancelled"</option>
                            </select>
                            <p class="field-error">{field_error("status")}</p>
                        </div>
                        <TextField label="Completed on" name="completed_on" input_type="date"
                            value=audit.as_ref().and_then(|a| a.completed_on).map(|d| d.to_string()).unwrap_or_default()/>
                        <div class="field" class:invalid=field_error("outcome").is_some()>
                            <label for="audit-outcome">"Outcome"</label>
                            <select id="audit-outcome" name="outcome">
                                <option value="">"Not yet"</option>
                                <option value="passed" selected=outcome.map(|o| o.as_str()) == Some("passed")>"Passed"</option>
                                <option value="passed_with_findings" selected=outcome.map(|o| o.as_str()) == Some("passed_with_findings")>"Passed with findings"</option>
                                <option value="failed" selected=outcome.map(|o| o.as_str()) == Some("failed")>"Failed"</option>
                            </select>
                            <p class="field-error">{field_error("outcome")}</p>
                        </div>
                    </div>
                    <TextArea label="Findings" name="findings" value=audit.as_ref().map(|a| a.findings.clone()).unwrap_or_default()/>
                    <table class="actions-form">
                        <thead><tr><th>"Follow-up action"</th><th>"Owner"</th><th>"Due"</th><th>"Done"</th></tr></thead>
                        <tbody>
                            {actions.into_iter().enumerate().map(|(n, act)| {
                                let row_error = field_errors_of(
                                    ["title", "owner", "due_on"].map(|f| format!("actions.{n}.{f}")),
                                );
                                view! {
                                    <tr>
                                        <td><input name=format!("actions[{n}][title]") value=act.title aria-label="Action"/>
                                            <p class="field-error">{row_error}</p></td>
                                        <td><input name=format!("actions[{n}][owner]") value=act.owner aria-label="Owner"/></td>
                                        <td><input type="date" name=format!("actions[{n}][due_on]") value=act.due_on.map(|d| d.to_string()).unwrap_or_default() aria-label="Due"/></td>
                                        <td><input type="checkbox" name=format!("actions[{n}][done]") checked=act.done aria-label="Done"/></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </fieldset>
            })}
            <button type="submit" class="primary">{if editing { "Save audit" } else { "Plan audit" }}</button>
        </PostForm>
    }
}

/// `/scope/audits/:id`
#[component]
pub fn ScopeAuditPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_scope_audit,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Audit"/><ErrorBox error=e/> }.into_any(),
                    Ok((a, can_edit)) => {
                        let details: BTreeMap<&str, String> = [
                            ("Kind", a.kind.label().to_owned()),
                            ("Platform", a.platform_name.clone()),
                            ("Subject", a.subject.clone()),
                            ("Aspects", a.aspects.join(", ")),
                            ("Due on", a.due_on.to_string()),
                            ("Completed on", a.completed_on.map(|d| d.to_string()).unwrap_or_default()),
                        ].into_iter().collect();
                        view! {
                            <Title text=a.title.clone()/>
                            <h1>{a.title.clone()}" "{audit_state(a.status, a.overdue, a.outcome)}</h1>
                            <p><a href="/scope/audits">"All audits"</a></p>
                            <dl class="facts">
                                {details.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                            </dl>
                            {(!a.findings.is_empty()).then(|| view! { <h2>"Findings"</h2><p class="prewrap">{a.findings.clone()}</p> })}
                            {(!a.actions.is_empty()).then(|| view! {
                                <h2>"Follow-up actions"</h2>
                                <ul>{a.actions.iter().map(|x| view! {
                                    <li>{if x.done { "✓ " } else { "○ " }}{x.title.clone()}
                                        {(!x.owner.is_empty()).then(|| format!(" · {}", x.owner))}
                                        {x.due_on.map(|d| format!(" · due {d}"))}</li>
                                }).collect_view()}</ul>
                            })}
                            {can_edit.then(|| view! {
                                <section class="edit no-print">
                                    <h2>"Record the outcome"</h2>
                                    <AuditForm platforms=vec![] applications=a.application_id.map(|i| vec![(i.to_string(), a.subject.clone())]).unwrap_or_default() audit=a.clone()/>
                                </section>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
