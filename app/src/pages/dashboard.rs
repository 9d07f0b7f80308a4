//! The dashboard: what is in the catalogue and what changed lately.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::load_dashboard;
use crate::components::{ErrorBox, when};

/// `/`
#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_dashboard());
    view! {
        <Title text="Dashboard"/>
        <h1>"Dashboard"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => view! {
                        <section class="cards" aria-label="Catalogue">
                            <a class="card" href="/teams"><span class="count">{d.teams}</span>" teams"</a>
                            <a class="card" href="/platforms"><span class="count">{d.platforms}</span>" platforms"</a>
                            <div class="card"><span class="count">{d.environments}</span>" environments"</div>
                            <a class="card" href="/applications"><span class="count">{d.applications}</span>" applications"</a>
                        </section>
                        {(d.applications_without_production > 0).then(|| view! {
                            <p class="alert alert-info">
                                {d.applications_without_production}
                                " applications have no namespace in a production environment yet."
                            </p>
                        })}
                        {(!d.pending_acknowledgements.is_empty()).then(|| view! {
                            <section class="alert alert-info" id="dashboard-pending">
                                <h2>"Scope revisions to acknowledge"</h2>
                                <ul>
                                    {d.pending_acknowledgements.into_iter().map(|p| view! {
                                        <li>
                                            <a href=format!("/platforms/{}/scope", p.platform_id)>{p.platform_name}</a>
                                            ": revision "{p.latest_revision}" is waiting for "{p.team_name}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </section>
                        })}
                        {(d.overdue_audits > 0).then(|| view! {
                            <section class="alert alert-error" id="dashboard-overdue-audits">
                                <h2>{d.overdue_audits}" overdue audits outside the fence"</h2>
                                <ul>
                                    {d.overdue_audit_list.into_iter().map(|a| view! {
                                        <li>
                                            <a href=format!("/scope/audits/{}", a.id)>{a.title}</a>
                                            " · "{a.platform_name}" · due "{a.due_on.to_string()}
                                        </li>
                                    }).collect_view()}
                                </ul>
                                <p><a href="/scope/audits?overdue=on">"All overdue audits"</a></p>
                            </section>
                        })}
                        {(!d.recent_changes.is_empty()).then(|| view! {
                            <section>
                                <h2>"Recent changes"</h2>
                                <ul class="changes">
                                    {d.recent_changes.into_iter().map(|c| view! {
                                        <li>{when(c.at)}" · "<strong>{c.actor_name}</strong>" "{c.action}" "{c.entity_type}</li>
                                    }).collect_view()}
                                </ul>
                                <p><a href="/audit">"The full audit log"</a></p>
                            </section>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
