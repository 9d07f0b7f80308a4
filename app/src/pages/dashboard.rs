//! The dashboard: what is in the catalogue, what changed lately, and what needs attention
//! (acknowledgements, overdue audits, drift and waivers after go-live, the calendar's follow-up).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::calendar::{CalendarDashboard, load_calendar_dashboard};
use crate::api::golive::load_golive_attention;
use crate::api::load_dashboard;
use crate::components::{ErrorBox, when};
use crate::pages::calendar::{action_items_table, eol_banner, short_day};
use domain::golive::model::{AttentionRow, GoLiveAttention};

/// `/`
#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_dashboard());
    let calendar = Resource::new(|| (), |_| load_calendar_dashboard());
    let golive = Resource::new(|| (), |_| load_golive_attention());
    view! {
        <Title text="Dashboard"/>
        <h1>"Dashboard"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => view! {
                        <section class="cards" aria-label="Catalogue">
                            <a class="card" href="/teams"><span class="count">{d.teams}</span>{noun(d.teams, " team", " teams")}</a>
                            <a class="card" href="/platforms"><span class="count">{d.platforms}</span>{noun(d.platforms, " platform", " platforms")}</a>
                            <div class="card"><span class="count">{d.environments}</span>{noun(d.environments, " environment", " environments")}</div>
                            <a class="card" href="/applications"><span class="count">{d.applications}</span>{noun(d.applications, " application", " applications")}</a>
                        </section>
                        {(d.applications_without_production > 0).then(|| view! {
                            <p class="alert alert-info">
                                {d.applications_without_production}
                                {noun(
                                    d.applications_without_production,
                                    " application has no namespace in a production environment yet.",
                                    " applications have no namespace in a production environment yet.",
                                )}
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
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match golive.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(g) => golive_section(g).into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match calendar.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(c) => calendar_section(c).into_any(),
                }
            })}
        </Suspense>
    }
}

/// How many rows of each go-live list the dashboard shows.
const SHOWN: usize = 8;

/// Live applications whose go-live checks fail again, and waivers that run out soon (an
/// application team's own only). Nothing at all when all is well.
fn golive_section(g: GoLiveAttention) -> impl IntoView {
    // "<application> · <platform> / <environment> · <before> <items> <after> <time>"
    let rows = |rows: Vec<AttentionRow>, before: &'static str, after: &'static str| {
        let more = rows.len().saturating_sub(SHOWN);
        let shown = rows
            .into_iter()
            .take(SHOWN)
            .map(|r| {
                view! {
                    <li>
                        <a href=format!("/golive/reviews/{}", r.review_id)>{r.application}</a>
                        {format!(" · {} / {} · {before}{} {after} ", r.platform, r.environment, r.items.join(", "))}
                        {when(r.at)}
                    </li>
                }
            })
            .collect_view();
        view! {
            {shown}
            {(more > 0).then(|| view! { <li><a href="/golive">{format!("{more} more on the go-live board")}</a></li> })}
        }
    };
    let drifted = (!g.drifted.is_empty()).then(|| {
        view! {
            <section class="alert alert-error" id="dashboard-drift">
                <h2>"Live applications that fail their go-live checks again"</h2>
                <ul>{rows(g.drifted, "", "failing since")}</ul>
                <p><a href="/golive">"The go-live board"</a></p>
            </section>
        }
    });
    let ending = (!g.waivers_ending.is_empty()).then(|| {
        view! {
            <section class="alert alert-warning" id="dashboard-waivers-ending">
                <h2>"Waivers that run out within a week"</h2>
                <ul>{rows(g.waivers_ending, "the waiver on ", "runs out")}</ul>
                <p class="muted">"Fix the item before then, or ask the platform team for a new waiver: when a waiver runs out, its item fails and the application drifts."</p>
            </section>
        }
    });
    view! { {drifted}{ending} }
}

/// What the maintenance calendar asks of people: action items, retrospectives, drill results,
/// end of life.
fn calendar_section(c: CalendarDashboard) -> impl IntoView {
    let due = (!c.retrospectives_due.is_empty()).then(|| {
        view! {
            <h3>"Retrospectives due"</h3>
            <ul id="retrospectives-due">
                {c.retrospectives_due.into_iter().map(|m| {
                    // An emergency's retrospective is mandatory: it says so.
                    let emergency = m.category == domain::calendar::model::Category::Emergency;
                    view! {
                        <li class:emergency=emergency>
                            {emergency.then(|| view! { <span class="badge warn">"Emergency"</span>" " })}
                            <a href=format!("/calendar/maintenances/{}", m.id)>{m.title}</a>
                            {format!(" · {} · ended {}", m.environment_slug, m.ended_at.map(|t| t.format("%a %-d %b %Y").to_string()).unwrap_or_default())}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    });
    let drills = (!c.drill_results_overdue.is_empty()).then(|| {
        view! {
            <h3>"Overdue drill results"</h3>
            <ul id="drill-results-overdue">
                {c.drill_results_overdue.into_iter().map(|d| view! {
                    <li>
                        <a href=format!("/calendar/drills/{}", d.id)>{d.title}</a>
                        {format!(" · {}{} · ended {} · no result recorded", d.platform_slug,
                            d.application_slug.map(|a| format!(" / {a}")).unwrap_or_default(),
                            d.ends_at.format("%a %-d %b %Y"))}
                    </li>
                }).collect_view()}
            </ul>
        }
    });
    let items = (!c.action_items.is_empty()).then(|| {
        view! {
            <h3>"Open action items"</h3>
            <div id="dashboard-action-items">{action_items_table(c.action_items, Some(c.today), false, true)}</div>
        }
    });
    let awaiting = (!c.awaiting_acknowledgement.is_empty()).then(|| {
        view! {
            <h3>"Major updates not acknowledged by every team"</h3>
            <ul id="awaiting-acknowledgement">
                {c.awaiting_acknowledgement.into_iter().map(|m| view! {
                    <li>
                        <a href=format!("/calendar/maintenances/{}", m.maintenance_id)>{m.title}</a>
                        {format!(" · {} · starts {} · waiting for {}", m.environment_slug, short_day(m.starts_at.date_naive()), m.teams.join(", "))}
                    </li>
                }).collect_view()}
            </ul>
        }
    });
    let quiet = due.is_none()
        && drills.is_none()
        && items.is_none()
        && awaiting.is_none()
        && c.end_of_life.is_empty();
    view! {
        <section id="dashboard-calendar" aria-labelledby="dashboard-calendar-heading">
            <h2 id="dashboard-calendar-heading"><a href="/calendar">"Maintenance calendar"</a></h2>
            {eol_banner(c.end_of_life)}
            {awaiting}
            {due}
            {drills}
            {items}
            {quiet.then(|| view! { <p class="muted">"No open action items, retrospectives, drill results, acknowledgements or end-of-life warnings."</p> })}
        </section>
    }
}

/// The words after a count: `singular` for exactly one, else `plural`.
fn noun<N: PartialEq + From<u8>>(
    n: N,
    singular: &'static str,
    plural: &'static str,
) -> &'static str {
    if n == N::from(1) { singular } else { plural }
}
