//! Go-live: the board of applications by go-live state, each review with its checklist items,
//! live verification against the cluster, waivers and sign-off, the evidence frozen at sign-off,
//! the platforms' checklist templates, and the cluster connections and team webhooks.

mod checklist;
mod clusters;
mod review;

pub use checklist::ChecklistPage;
pub use clusters::ClustersPage;
pub use review::{FrozenReviewPage, ReviewPage};

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::golive::{BoardEntry, OpenReview, load_board};
use crate::components::{ErrorBox, PostForm};
use domain::golive::model::{GoLiveState, ItemStatus, Outcome, Progress};

/// The board's groups, in the order people act on them.
const BOARD_ORDER: [GoLiveState; 6] = [
    GoLiveState::Blocked,
    GoLiveState::Drifted,
    GoLiveState::InProgress,
    GoLiveState::ReadyForSignoff,
    GoLiveState::NotStarted,
    GoLiveState::Approved,
];

/// A go-live state as a coloured badge.
pub(crate) fn state_badge(state: GoLiveState) -> impl IntoView {
    let class = format!("badge golive-state state-{}", state.as_str());
    view! { <span class=class data-state=state.as_str()>{state.label()}</span> }
}

/// An item's status as a coloured badge.
pub(crate) fn status_badge(status: ItemStatus) -> impl IntoView {
    let class = format!("badge item-status status-{}", status.as_str());
    view! { <span class=class>{status.label()}</span> }
}

/// A check's outcome as a coloured badge.
pub(crate) fn outcome_badge(outcome: Outcome) -> impl IntoView {
    let label = match outcome {
        Outcome::Pass => "Pass",
        Outcome::Warn => "Warning",
        Outcome::Fail => "Fail",
        Outcome::NotApplicable => "N/A",
        Outcome::Error => "Error",
    };
    let class = format!("badge outcome outcome-{}", outcome.as_str());
    view! { <span class=class>{label}</span> }
}

/// Required items done of required items, as a bar and in words.
pub(crate) fn progress_bar(p: &Progress, id: Option<String>) -> impl IntoView + use<> {
    let text = if p.required == 0 {
        "No required items".to_owned()
    } else {
        format!("{} of {} required", p.required_done, p.required)
    };
    let text_id = id.as_ref().map(|i| format!("{i}-text"));
    view! {
        <div class="golive-progress">
            <progress id=id max=p.required.max(1).to_string()
                value=if p.required == 0 { "1".to_owned() } else { p.required_done.to_string() }
                aria-label="Required items done"></progress>
            <span class="progress-text" id=text_id>{text}</span>
        </div>
    }
}

/// What blocks a review: failing required items first, then pending ones.
pub(crate) fn blockers(p: &Progress, limit: usize) -> impl IntoView + use<> {
    // Failing first, then pending, then what the last run could not check.
    let all: Vec<(&str, &str, String)> = p
        .failing
        .iter()
        .map(|t| ("blocker failing", "✗ ", t.clone()))
        .chain(
            p.pending
                .iter()
                .map(|t| ("blocker pending", "… ", t.clone())),
        )
        .chain(p.unverified.iter().map(|t| {
            (
                "blocker unverified",
                "? ",
                format!("{t} (not checked last run)"),
            )
        }))
        .collect();
    let more = all.len().saturating_sub(limit);
    (!all.is_empty()).then(|| {
        view! {
            <ul class="blockers">
                {all.into_iter().take(limit).map(|(class, mark, title)| {
                    view! { <li class=class>{mark}{title}</li> }
                }).collect_view()}
                {(more > 0).then(|| view! { <li class="muted">{format!("and {more} more")}</li> })}
            </ul>
        }
    })
}

/// `/golive`: every application on every environment by go-live state.
#[component]
pub fn GoLiveBoardPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (q.get("platform_id"), q.get("team"))
        },
        |(platform, team)| load_board(platform, team),
    );
    let selected = move |name: &'static str| query.read().get(name).unwrap_or_default();
    view! {
        <Title text="Go-live"/>
        <div class="page-head">
            <h1>"Go-live"</h1>
            <div class="actions no-print">
                <a class="button secondary" href="/golive/clusters" id="clusters-link">"Clusters"</a>
            </div>
        </div>
        <p class="muted">"Each application on each environment, checked against its platform's go-live checklist: by people with evidence, and automatically against the live cluster."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => {
                        let platform = selected("platform_id");
                        let team = selected("team");
                        let checklists = d.platforms.iter().map(|p| view! {
                            <a href=format!("/platforms/{}/checklist", p.id) class="checklist-link" data-platform=p.slug.clone()>{p.name.clone()}</a>
                        }).collect_view();
                        view! {
                            <p class="checklist-links no-print" id="checklist-links">"Checklist templates: "{checklists}</p>
                            <form method="get" class="filters no-print" id="board-filters">
                                <select name="platform_id" aria-label="Platform" id="filter-platform">
                                    <option value="">"All platforms"</option>
                                    {d.platforms.iter().map(|p| {
                                        let id = p.id.to_string();
                                        let sel = id == platform;
                                        view! { <option value=id selected=sel>{p.name.clone()}</option> }
                                    }).collect_view()}
                                </select>
                                <select name="team" aria-label="Team" id="filter-team">
                                    <option value="">"All teams"</option>
                                    {d.teams.iter().map(|t| {
                                        let sel = t.slug == team;
                                        view! { <option value=t.slug.clone() selected=sel>{t.name.clone()}</option> }
                                    }).collect_view()}
                                </select>
                                <button type="submit">"Filter"</button>
                            </form>
                            {board(d.entries)}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn board(entries: Vec<BoardEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="empty" id="board-empty">"No application is placed on an environment yet."</p> }
            .into_any();
    }
    let counts = BOARD_ORDER
        .iter()
        .map(|s| (*s, entries.iter().filter(|e| e.row.state == *s).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| {
            view! {
                <li data-state=s.as_str()>{state_badge(s)}" "<span class="count">{n}</span></li>
            }
        })
        .collect_view();
    let groups = BOARD_ORDER
        .iter()
        .filter_map(|state| {
            let rows: Vec<BoardEntry> = entries
                .iter()
                .filter(|e| e.row.state == *state)
                .cloned()
                .collect();
            (!rows.is_empty()).then(|| {
                let heading_id = format!("group-{}", state.as_str());
                view! {
                    <section class="board-group" data-state=state.as_str() aria-labelledby=heading_id.clone()>
                        <h2 id=heading_id.clone()>{state.label()}<span class="muted">{format!(" · {}", rows.len())}</span></h2>
                        <div class="table-scroll">
                            <table class="board">
                                <thead><tr>
                                    <th>"Application"</th><th>"Team"</th><th>"Environment"</th><th>"State"</th>
                                    <th>"Progress"</th><th>"Blocked by"</th><th class="no-print">"Review"</th>
                                </tr></thead>
                                <tbody>{rows.into_iter().map(board_row).collect_view()}</tbody>
                            </table>
                        </div>
                    </section>
                }
            })
        })
        .collect_view();
    view! {
        <ul class="golive-counts" id="board-counts">{counts}</ul>
        <div id="board">{groups}</div>
    }
    .into_any()
}

fn board_row(e: BoardEntry) -> impl IntoView {
    let r = e.row;
    let review = match r.review_id {
        Some(id) => view! {
            <a href=format!("/golive/reviews/{id}") class="review-link">"Review"</a>
        }
        .into_any(),
        None if e.can_open => view! {
            <PostForm action=OpenReview::url()>
                <input type="hidden" name="application_id" value=r.application_id.to_string()/>
                <input type="hidden" name="environment_id" value=r.environment_id.to_string()/>
                <button type="submit" class="secondary open-review">"Open review"</button>
            </PostForm>
        }
        .into_any(),
        None => view! { <span class="muted">"Not started"</span> }.into_any(),
    };
    let started = r.state != GoLiveState::NotStarted;
    view! {
        <tr class="board-row" data-application=r.application_slug.clone() data-team=r.team_slug.clone()
            data-environment-id=r.environment_id.to_string() data-state=r.state.as_str()>
            <td><a href=format!("/applications/{}", r.application_id)>{r.application_name.clone()}</a></td>
            <td>{r.team_name.clone()}</td>
            <td>{r.environment_name.clone()}{r.is_production.then(|| view! { <span class="badge prod">"production"</span> })}</td>
            <td>{state_badge(r.state)}
                {r.approved_at.map(|at| view! { <br/><span class="muted">{format!("approved {}", at.format("%Y-%m-%d"))}</span> })}
                {r.last_checked_at.map(|at| view! { <br/><span class="muted last-checked">{format!("checked {}", at.format("%Y-%m-%d %H:%M UTC"))}</span> })}</td>
            <td>{started.then(|| progress_bar(&r.progress, None))}</td>
            <td>{blockers(&r.progress, 4)}</td>
            <td class="no-print">{review}</td>
        </tr>
    }
}
