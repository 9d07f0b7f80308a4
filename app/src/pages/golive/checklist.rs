//! A platform's go-live checklist template: its items, and (for platform staff) a form per item.
//! Every save stores the whole list as the next version; reviews keep the version they were
//! opened with.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::golive::{
    ChecklistPageData, RemoveChecklistItem, SaveChecklistItem, load_checklist,
};
use crate::components::{ErrorBox, PostForm, TextArea, TextField, field_error, when};
use domain::golive::model::{CheckId, ItemDef, Params};

fn params_text(params: &Params) -> String {
    if *params == Params::default() {
        String::new()
    } else {
        serde_json::to_string(params).unwrap_or_default()
    }
}

fn environments_text(environments: &[String]) -> String {
    environments.join(", ")
}

/// `/platforms/:id/checklist`
#[component]
pub fn ChecklistPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_checklist,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Go-live checklist"/><ErrorBox error=e/> }.into_any(),
                    Ok(d) => checklist_view(d).into_any(),
                }
            })}
        </Suspense>
    }
}

fn checklist_view(d: ChecklistPageData) -> impl IntoView {
    let t = d.template;
    let pid = d.platform.id.to_string();
    let version = t.version;
    let count = t.items.len();
    let version_line = if version == 0 {
        view! { "Demarc's default checklist: this platform has not saved its own yet. The first save makes it version 1." }
            .into_any()
    } else {
        let by = t.created_by.clone();
        view! {
            {format!("Version {version} · saved by {by}")}
            {t.created_at.map(|at| view! { " on "{when(at)} })}
        }
        .into_any()
    };
    let rows = t
        .items
        .iter()
        .map(|i| {
            let params = params_text(&i.params);
            view! {
                <tr class="checklist-item" data-key=i.key.clone()>
                    <td><code>{i.key.clone()}</code></td>
                    <td>{i.title.clone()}</td>
                    <td>{if i.required { "Required" } else { "Optional" }}</td>
                    <td>{if i.environments.is_empty() { "All".to_owned() } else { environments_text(&i.environments) }}</td>
                    <td>{match i.check {
                        Some(c) => view! { <code class="check-id">{c.as_str()}</code> }.into_any(),
                        None => view! { <span class="muted">"Manual"</span> }.into_any(),
                    }}
                    {(!params.is_empty()).then(|| view! { <br/><code class="params">{params}</code> })}</td>
                </tr>
            }
        })
        .collect_view();
    let environments = d.environments;
    let items = t.items.clone();
    view! {
        <Title text=format!("Go-live checklist of {}", d.platform.name)/>
        <div class="page-head">
            <h1>"Go-live checklist of "<a href=format!("/platforms/{pid}")>{d.platform.name.clone()}</a></h1>
            <div class="actions no-print">
                <a class="button secondary" href=format!("/golive?platform_id={pid}")>"Board"</a>
            </div>
        </div>
        <p class="revision-line" id="template-version" data-version=version.to_string()>{version_line}</p>
        {(!t.note.is_empty()).then(|| view! { <p class="summary" id="template-note">{t.note.clone()}</p> })}
        <p class="muted">"Reviews opened from an earlier version keep it; new reviews use the newest version."</p>
        <div class="table-scroll">
            <table id="checklist-items">
                <thead><tr><th>"Key"</th><th>"Item"</th><th>"Required"</th><th>"Environments"</th><th>"Check"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {d.can_edit.then(|| view! {
            <section class="edit no-print" id="edit-checklist">
                <h2>"Edit the checklist"</h2>
                <p class="hint">{format!("Each save stores version {} with every item.", version + 1)}</p>
                {items.into_iter().enumerate().map(|(n, item)| {
                    let key = item.key.clone();
                    let title = item.title.clone();
                    let remove_id = format!("remove-{key}");
                    let key_field = key.clone();
                    let (pid_form, pid_remove) = (pid.clone(), pid.clone());
                    view! {
                        <details class="edit-item" data-key=key>
                            <summary>{format!("Edit “{title}”")}</summary>
                            <ItemDefForm platform_id=pid_form base_version=version index=n item=item environments=environments.clone()/>
                            <PostForm action=RemoveChecklistItem::url()>
                                <input type="hidden" name="platform_id" value=pid_remove/>
                                <input type="hidden" name="base_version" value=version.to_string()/>
                                <input type="hidden" name="key" value=key_field/>
                                <button type="submit" class="secondary" id=remove_id>"Remove from the checklist"</button>
                            </PostForm>
                        </details>
                    }
                }).collect_view()}
                <details class="edit-item" id="add-checklist-item">
                    <summary>"Add an item"</summary>
                    <ItemDefForm platform_id=pid.clone() base_version=version index=count environments=environments.clone()/>
                </details>
            </section>
        })}
        {(!d.versions.is_empty()).then(|| view! {
            <h2>"Versions"</h2>
            <ul class="revisions" id="template-versions">
                {d.versions.into_iter().map(|v| view! {
                    <li data-version=v.version.to_string()>
                        {format!("Version {} · {}", v.version, v.created_by)}
                        {v.created_at.map(|at| view! { " · "{when(at)} })}
                        {(!v.note.is_empty()).then(|| format!(" · {}", v.note))}
                    </li>
                }).collect_view()}
            </ul>
        })}
    }
}

/// The form of one item (or of a new one, at `index` = the number of items).
#[component]
fn ItemDefForm(
    platform_id: String,
    base_version: i32,
    index: usize,
    #[prop(optional)] item: Option<ItemDef>,
    environments: Vec<String>,
) -> impl IntoView {
    let editing = item.is_some();
    let prefix = item
        .as_ref()
        .map(|i| format!("{}-", i.key))
        .unwrap_or_else(|| "new-".to_owned());
    let i = item.clone().unwrap_or(ItemDef {
        key: String::new(),
        title: String::new(),
        why: String::new(),
        how_to_check: String::new(),
        desired: String::new(),
        how_to_fix: String::new(),
        required: true,
        environments: vec![],
        check: None,
        params: Params::default(),
    });
    let check_id = format!("field-{prefix}check");
    let required_id = format!("field-{prefix}required");
    let current_check = i.check;
    let slugs = (!environments.is_empty()).then(|| {
        view! { <p class="hint env-slugs">{format!("This platform's environments: {}.", environments.join(", "))}</p> }
    });
    view! {
        // The domain names fields by position in the whole list (`items[3].title`).
        <PostForm action=SaveChecklistItem::url() class="checklist-item-form" field_prefix=format!("items[{index}].")>
            <input type="hidden" name="platform_id" value=platform_id/>
            <input type="hidden" name="base_version" value=base_version.to_string()/>
            <input type="hidden" name="index" value=index.to_string()/>
            <div class="grid-2">
                <TextField label="Key" name="key" value=i.key.clone() required=true
                    hint="Lowercase letters, digits and dashes; reviews refer to items by it." prefix=prefix.clone()/>
                <TextField label="Title" name="title" value=i.title.clone() required=true prefix=prefix.clone()/>
            </div>
            <TextArea label="Why it matters" name="why" value=i.why.clone() prefix=prefix.clone()/>
            <TextArea label="How to check" name="how_to_check" value=i.how_to_check.clone() prefix=prefix.clone()/>
            <TextArea label="Desired outcome" name="desired" value=i.desired.clone() prefix=prefix.clone()/>
            <TextArea label="How to fix" name="how_to_fix" value=i.how_to_fix.clone() prefix=prefix.clone()/>
            <div class="field checkbox" class:invalid=field_error("required").is_some()>
                <label for=required_id.clone()><input type="checkbox" id=required_id.clone() name="required" checked=i.required/>
                    " Required: must pass, be waived or not apply before sign-off"</label>
                <p class="field-error">{field_error("required")}</p>
            </div>
            <TextField label="Environments" name="environments" value=environments_text(&i.environments)
                hint="Environment slugs, comma separated, or @production / @non-production. Empty: every environment."
                prefix=prefix.clone()/>
            {slugs}
            <div class="grid-2">
                <div class="field" class:invalid=field_error("check").is_some()>
                    <label for=check_id.clone()>"Answered by"</label>
                    <select id=check_id name="check">
                        <option value="" selected=current_check.is_none()>"People (manual, with evidence)"</option>
                        {CheckId::ALL.into_iter().map(|c| view! {
                            <option value=c.as_str() selected=current_check == Some(c)>{format!("Automatic check: {}", c.as_str())}</option>
                        }).collect_view()}
                    </select>
                    <p class="field-error">{field_error("check")}</p>
                </div>
                <TextArea label="Check parameters (JSON)" name="params" value=params_text(&i.params)
                    hint="For example {\"min_replicas\": 3} or {\"allowed_registries\": [\"registry.example.com\"]}. Empty: the defaults."
                    prefix=prefix.clone()/>
            </div>
            <TextField label="Note for this version" name="note" hint="What changed and why; empty says which item changed."
                prefix=prefix.clone()/>
            <button type="submit" class="primary" id=if editing { format!("save-{}", i.key) } else { "add-checklist-item-button".to_owned() }>
                {if editing { "Save item" } else { "Add item" }}
            </button>
        </PostForm>
    }
}
