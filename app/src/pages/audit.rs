//! The audit log: every change, who made it, before and after.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{audit_facets, audit_log};
use crate::components::{ErrorBox, urlencode, when};

/// `/audit`
/// The filters the query string may carry, in the order the older-entries link repeats them.
const FILTERS: [&str; 6] = [
    "entity_type",
    "entity_id",
    "actor",
    "action",
    "since",
    "until",
];

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &'static str| move || query.read().get(k).filter(|v| !v.trim().is_empty());
    let (entity, entity_id, actor, action) = (
        get("entity_type"),
        get("entity_id"),
        get("actor"),
        get("action"),
    );
    let (since, until) = (get("since"), get("until"));
    let before = move || {
        query
            .read()
            .get("before_id")
            .and_then(|v| v.parse::<i64>().ok())
    };
    let data = Resource::new(
        move || {
            (
                entity(),
                entity_id(),
                actor(),
                action(),
                since(),
                until(),
                before(),
            )
        },
        |(e, id, a, ac, s, u, b)| audit_log(e, id, a, ac, s, u, b),
    );
    let facets = Resource::new(|| (), |_| audit_facets());
    // The link to older entries keeps the filters.
    let older = move |id: i64| {
        let q = query.read();
        let mut href = String::from("/audit?");
        for k in FILTERS {
            if let Some(v) = q.get(k).filter(|v| !v.trim().is_empty()) {
                href.push_str(&format!("{k}={}&", urlencode(&v)));
            }
        }
        href.push_str(&format!("before_id={id}"));
        href
    };
    let select = move |id: &'static str,
                       label: &'static str,
                       values: Vec<String>,
                       current: Option<String>| {
        view! {
            <label for=id>{label}</label>
            <select id=id name=id>
                <option value="">"any"</option>
                {values.into_iter().map(|v| {
                    let selected = current.as_deref() == Some(v.as_str());
                    view! { <option value=v.clone() selected=selected>{v.replace('_', " ")}</option> }
                }).collect_view()}
            </select>
        }
    };
    view! {
        <Title text="Audit log"/>
        <h1>"Audit log"</h1>
        <p class="muted">"Every change in Demarc, newest first. Entries cannot be edited or deleted."</p>
        <form method="get" class="filters">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let f = facets.await.unwrap_or_default();
                    view! {
                        {select("entity_type", "Entity", f.entity_types, entity())}
                        {select("action", "Action", f.actions, action())}
                    }
                })}
            </Suspense>
            <label for="entity_id">"Entity id"</label>
            <input id="entity_id" name="entity_id" value=entity_id size="12"/>
            <label for="actor">"Who"</label>
            <input id="actor" name="actor" value=actor/>
            <label for="since">"From"</label>
            <input id="since" name="since" type="date" value=since/>
            <label for="until">"To"</label>
            <input id="until" name="until" type="date" value=until/>
            <button type="submit">"Filter"</button>
        </form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(entries) if entries.is_empty() => view! { <p class="empty">"No entries match."</p> }.into_any(),
                    Ok(entries) => {
                        let oldest = entries.last().map(|e| e.id);
                        let full = entries.len() >= 100;
                        view! {
                            <table class="audit">
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Change"</th></tr></thead>
                                <tbody>
                                    {entries.into_iter().map(|e| {
                                        let before = e.before.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default());
                                        let after = e.after.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default());
                                        view! {
                                            <tr>
                                                <td>{when(e.at)}</td>
                                                <td>{e.actor_name}<br/><span class="muted">{e.actor_kind}</span></td>
                                                <td>{e.action}" "{e.entity_type}<br/><code class="muted">{e.entity_id}</code></td>
                                                <td>
                                                    <details>
                                                        <summary>"Before and after"</summary>
                                                        <div class="diff">
                                                            <pre aria-label="Before">{before.unwrap_or_else(|| "—".into())}</pre>
                                                            <pre aria-label="After">{after.unwrap_or_else(|| "—".into())}</pre>
                                                        </div>
                                                        {e.request_id.map(|r| view! { <p class="muted">"Request "{r}</p> })}
                                                    </details>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {(full).then(|| oldest.map(|id| view! {
                                <p><a href=older(id)>"Older entries"</a></p>
                            }))}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
