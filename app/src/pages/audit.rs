//! The audit log: every change, who made it, before and after.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::audit_log;
use crate::components::{ErrorBox, when};

/// `/audit`
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &'static str| move || query.read().get(k).filter(|v| !v.is_empty());
    let (entity, actor, action) = (get("entity_type"), get("actor"), get("action"));
    let before = move || {
        query
            .read()
            .get("before_id")
            .and_then(|v| v.parse::<i64>().ok())
    };
    let data = Resource::new(
        move || (entity(), actor(), action(), before()),
        |(e, a, ac, b)| audit_log(e, a, ac, b),
    );
    let option = move |value: &'static str, current: Option<String>| {
        view! { <option value=value selected=current.as_deref() == Some(value)>{value}</option> }
    };
    view! {
        <Title text="Audit log"/>
        <h1>"Audit log"</h1>
        <p class="muted">"Every change in Demarc, newest first. Entries cannot be edited or deleted."</p>
        <form method="get" class="filters">
            <label for="entity_type">"Entity"</label>
            <select id="entity_type" name="entity_type">
                <option value="">"any"</option>
                {["team", "platform", "environment", "application", "api_token", "user"].into_iter()
                    .map(|v| option(v, entity())).collect_view()}
            </select>
            <label for="action">"Action"</label>
            <select id="action" name="action">
                <option value="">"any"</option>
                {["create", "update", "archive", "restore", "revoke", "login"].into_iter()
                    .map(|v| option(v, action())).collect_view()}
            </select>
            <label for="actor">"Who"</label>
            <input id="actor" name="actor" value=actor/>
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
                                <p><a href=format!("/audit?before_id={id}")>"Older entries"</a></p>
                            }))}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
