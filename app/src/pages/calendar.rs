//! The maintenance calendar: the month grid and the agenda of plan windows, maintenances, DR
//! drills, audits and blackouts (staging and production side by side), the plans with their
//! blackouts and notice settings, maintenances with their lifecycle and retrospectives, drills,
//! and the subscription feeds.

mod drills;
mod feeds;
mod maintenances;
mod plans;

pub use drills::{DrillPage, NewDrillPage};
pub use feeds::FeedsPage;
pub use maintenances::{EditMaintenancePage, MaintenancePage, NewMaintenancePage};
pub use plans::PlansPage;

use chrono::{Datelike, Duration, NaiveDate};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::api::calendar::{
    ActionItemField, AgendaRow, CalendarPageData, CompleteActionItem, Entry, Follows, add_months,
    load_calendar,
};
use crate::components::{ButtonForm, ErrorBox, TextArea, field_errors_of, when};
use domain::calendar::human_date;
use domain::calendar::model::{
    ActionItem, CalendarEvent, Category, EnvironmentEol, EventKind, MaintenanceState, Retrospective,
};

/// How many action-item rows a retrospective form offers.
pub(crate) const ACTION_ROWS: usize = 5;

/// An environment as a badge; production stands out.
pub(crate) fn env_badge(slug: &str, is_production: bool) -> impl IntoView + use<> {
    let class = if is_production {
        "badge env-badge env-production"
    } else {
        "badge env-badge"
    };
    view! { <span class=class data-environment=slug.to_owned()>{slug.to_owned()}</span> }
}

/// A maintenance's state as a badge.
pub(crate) fn state_badge(state: MaintenanceState) -> impl IntoView {
    let class = format!("badge maintenance-state state-{}", state.as_str());
    view! { <span class=class data-state=state.as_str()>{state.label()}</span> }
}

/// A drill's state (planned, completed, cancelled) as a badge.
pub(crate) fn drill_state_badge(state: &str) -> impl IntoView + use<> {
    let class = format!("badge drill-state state-{state}");
    let label = match state {
        "planned" => "Planned",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        other => other,
    }
    .to_owned();
    view! { <span class=class data-state=state.to_owned()>{label}</span> }
}

/// A maintenance's category as a badge in its colour.
pub(crate) fn category_badge(category: Category) -> impl IntoView {
    let class = format!("badge category cat-{}", category.as_str());
    view! { <span class=class>{category.label()}</span> }
}

/// A day as the calendar writes it: "Tue 9 Mar".
pub(crate) fn short_day(date: NaiveDate) -> String {
    date.format("%a %-d %b").to_string()
}

/// "follows staging Tue 9 Mar".
fn follows_text(f: &Follows) -> String {
    format!("follows {} {}", f.environment, short_day(f.date))
}

/// The CSS classes of an entry: its kind, a maintenance's category, cancelled.
fn entry_class(e: &Entry) -> String {
    let ev = &e.event;
    let mut class = format!("entry kind-{}", ev.kind.as_str());
    if let Some(c) = ev.category {
        class.push_str(&format!(" cat-{}", c.as_str()));
    }
    if ev.cancelled {
        class.push_str(" cancelled");
    }
    if ev.is_production {
        class.push_str(" production");
    }
    class
}

/// An entry's line: environment badge, time, title (linked), and whose window it follows.
fn entry_view(e: Entry, show_day: bool) -> impl IntoView {
    let class = entry_class(&e);
    let ev = e.event;
    let time = match ev.all_day {
        Some((first, last)) if first != last => {
            format!("{} – {}", short_day(first), short_day(last))
        }
        Some(_) if show_day => short_day(ev.local_date),
        Some(_) => "All day".to_owned(),
        None if show_day => format!(
            "{} · {}–{} UTC{}",
            short_day(ev.local_date),
            ev.starts_at.format("%H:%M"),
            ev.ends_at.format("%H:%M"),
            utc_day_note(&ev)
        ),
        None => format!("{}{}", ev.starts_at.format("%H:%M"), utc_day_note(&ev)),
    };
    let title = match ev.link.clone() {
        Some(href) => view! { <a href=href class="entry-title">{ev.title.clone()}</a> }.into_any(),
        None => view! { <span class="entry-title">{ev.title.clone()}</span> }.into_any(),
    };
    let state = ev
        .state
        .as_deref()
        .and_then(MaintenanceState::parse)
        .filter(|_| ev.kind == EventKind::Maintenance)
        .map(state_badge);
    view! {
        <div class=class data-kind=ev.kind.as_str() data-environment=ev.environment_slug.clone().unwrap_or_default()
            data-date=ev.local_date.to_string() title=ev.detail.clone()>
            {ev.environment_slug.as_deref().map(|s| env_badge(s, ev.is_production))}
            <span class="entry-time">{time}</span>" "
            {title}
            {state}
            {e.follows.as_ref().map(|f| view! { <span class="follows">{follows_text(f)}</span> })}
        </div>
    }
}

/// The address of the calendar for a month and view, keeping the filters.
fn calendar_href(month: NaiveDate, view: &str, query: &ParamsMap) -> String {
    let mut parts = vec![format!("month={}", month.format("%Y-%m"))];
    if view == "agenda" {
        parts.push("view=agenda".into());
    }
    for key in ["platform", "environment", "team"] {
        if let Some(v) = query.get(key).filter(|v| !v.is_empty()) {
            parts.push(format!("{key}={v}"));
        }
    }
    for kind in query.get_all("kind").unwrap_or_default() {
        parts.push(format!("kind={kind}"));
    }
    format!("/calendar?{}", parts.join("&"))
}

/// `/calendar`: the month grid (default) or the agenda (`?view=agenda`), filtered.
#[component]
pub fn CalendarPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("month"),
                q.get("view"),
                q.get("platform"),
                q.get("environment"),
                q.get("team"),
                q.get_all("kind").unwrap_or_default(),
            )
        },
        |(month, view, platform, environment, team, kinds)| {
            load_calendar(month, view, platform, environment, team, kinds)
        },
    );
    view! {
        <Title text="Maintenance calendar"/>
        <Suspense fallback=|| view! { <h1>"Maintenance calendar"</h1><p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <h1>"Maintenance calendar"</h1><ErrorBox error=e/> }.into_any(),
                    Ok(d) => calendar_view(d, query.get_untracked()).into_any(),
                }
            })}
        </Suspense>
    }
}

fn calendar_view(d: CalendarPageData, query: ParamsMap) -> impl IntoView {
    let agenda = d.view == "agenda";
    let title = if agenda {
        format!(
            "{} and {}",
            d.month.format("%B %Y"),
            add_months(d.month, 1).format("%B %Y")
        )
    } else {
        d.month.format("%B %Y").to_string()
    };
    let prev = calendar_href(add_months(d.month, -1), &d.view, &query);
    let next = calendar_href(add_months(d.month, 1), &d.view, &query);
    let as_month = calendar_href(d.month, "month", &query);
    let as_agenda = calendar_href(d.month, "agenda", &query);
    let this_month = d.today.with_day(1).unwrap_or(d.today);
    let today_href = calendar_href(this_month, &d.view, &query);
    let filters = filters(&d, &query);
    let body = if agenda {
        agenda_view(d.agenda).into_any()
    } else {
        grid_view(&d.entries, d.month, d.first, d.last, d.today).into_any()
    };
    view! {
        <div class="page-head">
            <h1>"Maintenance calendar: "<span id="calendar-month">{title}</span></h1>
            <div class="actions no-print">
                <a class="button secondary" href="/calendar/plans" id="plans-link">"Plans"</a>
                {d.can_manage.then(|| view! {
                    <a class="button" href="/calendar/maintenances/new" id="new-maintenance-link">"Plan a maintenance"</a>
                })}
                <a class="button secondary" href="/calendar/drills/new" id="new-drill-link">"Plan a DR drill"</a>
                <a class="button secondary" href="/calendar/feeds" id="feeds-link">"Feeds"</a>
                <a class="button secondary" href="/api/v1/maintenances/export.csv" id="maintenances-csv"
                    download="maintenances.csv">"Maintenances (CSV)"</a>
                <a class="button secondary" href="/api/v1/drills/export.csv" id="drills-csv"
                    download="drills.csv">"Drills (CSV)"</a>
            </div>
        </div>
        {eol_banner(d.end_of_life)}
        <nav class="calendar-nav no-print" aria-label="Months and views">
            <a href=prev rel="prev" id="previous-month">"← Previous"</a>
            <a href=today_href id="this-month">"This month"</a>
            <a href=next rel="next" id="next-month">"Next →"</a>
            <span class="view-switch">
                <a href=as_month aria-current=(!agenda).then_some("page") id="month-view">"Month"</a>
                <a href=as_agenda aria-current=agenda.then_some("page") id="agenda-view">"Agenda"</a>
            </span>
        </nav>
        {filters}
        <p class="muted legend">
            "Times in UTC, each entry on its environment's local day. "
            <span class="entry kind-window">"Window"</span>
            <span class="entry kind-maintenance cat-security_patch">"Security patch"</span>
            <span class="entry kind-maintenance cat-minor">"Minor update"</span>
            <span class="entry kind-maintenance cat-major">"Major update"</span>
            <span class="entry kind-maintenance cat-emergency">"Emergency"</span>
            <span class="entry kind-drill">"DR drill"</span>
            <span class="entry kind-audit">"Audit"</span>
            <span class="entry kind-blackout">"Blackout"</span>
            <span class="entry kind-maintenance cancelled">"Cancelled"</span>
        </p>
        {body}
    }
}

/// Environments close to (or past) their Kubernetes version's end of life.
pub(crate) fn eol_banner(eol: Vec<EnvironmentEol>) -> impl IntoView {
    (!eol.is_empty()).then(|| {
        view! {
            <section class="alert alert-warning eol-banner" id="eol-banner" aria-labelledby="eol-heading">
                <h2 id="eol-heading">"Kubernetes end of life"</h2>
                <ul>
                    {eol.into_iter().map(|e| view! {
                        <li class=format!("eol eol-{}", e.level) data-environment=e.environment_slug.clone()>
                            <strong>{format!("{} / {}", e.platform_slug, e.environment_slug)}</strong>": "{e.message}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        }
    })
}

fn filters(d: &CalendarPageData, query: &ParamsMap) -> impl IntoView + use<> {
    let selected = |key: &str| query.get(key).unwrap_or_default();
    let (platform, environment, team) = (
        selected("platform"),
        selected("environment"),
        selected("team"),
    );
    let kinds = query.get_all("kind").unwrap_or_default();
    view! {
        <form method="get" action="/calendar" class="filters no-print" id="calendar-filters">
            <input type="hidden" name="month" value=d.month.format("%Y-%m").to_string()/>
            <input type="hidden" name="view" value=d.view.clone()/>
            <select name="platform" aria-label="Platform" id="filter-platform">
                <option value="">"All platforms"</option>
                {d.platforms.iter().map(|p| view! {
                    <option value=p.slug.clone() selected=p.slug == platform>{p.name.clone()}</option>
                }).collect_view()}
            </select>
            <select name="environment" aria-label="Environment" id="filter-environment">
                <option value="">"All environments"</option>
                {d.environments.iter().map(|(platform, e)| {
                    let id = e.id.to_string();
                    let sel = id == environment;
                    view! { <option value=id selected=sel>{format!("{platform} / {}", e.name)}</option> }
                }).collect_view()}
            </select>
            <select name="team" aria-label="Team" id="filter-team">
                <option value="">"All teams"</option>
                {d.teams.iter().map(|t| view! {
                    <option value=t.slug.clone() selected=t.slug == team>{t.name.clone()}</option>
                }).collect_view()}
            </select>
            <fieldset class="kinds">
                <legend>"Show"</legend>
                {EventKind::ALL.into_iter().map(|k| {
                    let checked = kinds.is_empty() || kinds.iter().any(|x| x == k.as_str());
                    view! {
                        <label><input type="checkbox" name="kind" value=k.as_str() checked=checked/>" "{k.label()}</label>
                    }
                }).collect_view()}
            </fieldset>
            <button type="submit" id="apply-filters">"Filter"</button>
        </form>
    }
}

/// An entry sits on its environment's local day; when its start in UTC falls on another day
/// (a window at 02:00 in Tokyo starts at 17:00 UTC the day before), that day is named.
fn utc_day_note(ev: &CalendarEvent) -> String {
    let utc_day = ev.starts_at.date_naive();
    if utc_day == ev.local_date {
        String::new()
    } else {
        format!(" (UTC: {})", short_day(utc_day))
    }
}

/// Whether an entry shows on a day: its day, or any day of a whole-day range.
fn on_day(e: &Entry, day: NaiveDate) -> bool {
    match e.event.all_day {
        Some((first, last)) => first <= day && day <= last,
        None => e.event.local_date == day,
    }
}

fn grid_view(
    entries: &[Entry],
    month: NaiveDate,
    first: NaiveDate,
    last: NaiveDate,
    today: NaiveDate,
) -> impl IntoView + use<> {
    let weeks = (last - first).num_days() / 7 + 1;
    let rows = (0..weeks)
        .map(|w| {
            let days = (0..7)
                .map(|d| {
                    let day = first + Duration::days(w * 7 + d);
                    let here: Vec<Entry> =
                        entries.iter().filter(|e| on_day(e, day)).cloned().collect();
                    let other = day.month() != month.month();
                    view! {
                        <td class="day" class:other-month=other class:today=day == today data-date=day.to_string()>
                            <span class="day-number">{day.day()}</span>
                            <span class="day-name">{day.format("%a %-d %b").to_string()}</span>
                            {here.into_iter().map(|e| entry_view(e, false)).collect_view()}
                        </td>
                    }
                })
                .collect_view();
            view! { <tr>{days}</tr> }
        })
        .collect_view();
    view! {
        <table class="month-grid" id="month-grid">
            <thead><tr>
                {["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map(|d| view! { <th scope="col">{d}</th> })}
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn agenda_view(rows: Vec<AgendaRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty" id="agenda-empty">"Nothing on the calendar in these months."</p> }
            .into_any();
    }
    let items = rows
        .into_iter()
        .map(|row| match row.follower {
            None => view! { <li class="agenda-item">{entry_view(row.entry, true)}</li> }.into_any(),
            Some((follower, soak)) => {
                let lead = row.entry;
                let caption = format!(
                    "{} {} → {} {}, +{soak} working days",
                    lead.event.environment_slug.clone().unwrap_or_default(),
                    short_day(lead.event.local_date),
                    follower.event.environment_slug.clone().unwrap_or_default(),
                    short_day(follower.event.local_date),
                );
                view! {
                    <li class="agenda-pair">
                        <p class="soak">{caption}</p>
                        {entry_view(lead, true)}
                        {entry_view(follower, true)}
                    </li>
                }
                .into_any()
            }
        })
        .collect_view();
    view! { <ol class="agenda" id="agenda">{items}</ol> }.into_any()
}

/// A retrospective with its action items (and "done" buttons for those who may tick them).
pub(crate) fn retrospective_view(
    r: Retrospective,
    today: Option<NaiveDate>,
    can_complete: bool,
) -> impl IntoView {
    view! {
        <section id="retrospective" aria-labelledby="retrospective-heading">
            <h2 id="retrospective-heading">"Retrospective"</h2>
            {r.written_at.map(|at| view! { <p class="muted">"Written "{when(at)}</p> })}
            <dl class="facts">
                <dt>"Went well"</dt><dd class="prewrap" id="went-well">{r.went_well}</dd>
                <dt>"To improve"</dt><dd class="prewrap" id="to-improve">{r.to_improve}</dd>
            </dl>
            {action_items_table(r.action_items, today, can_complete, false)}
        </section>
    }
}

/// Action items with owner and due date; overdue ones stand out.
pub(crate) fn action_items_table(
    items: Vec<ActionItem>,
    today: Option<NaiveDate>,
    can_complete: bool,
    show_source: bool,
) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="empty">"No action items."</p> }.into_any();
    }
    view! {
        <table class="action-items">
            <thead><tr>
                <th>"Action item"</th>
                {show_source.then(|| view! { <th>"From"</th> })}
                <th>"Owner"</th><th>"Due"</th><th>"Done"</th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|i| {
                    let overdue = i.done_at.is_none() && today.is_some_and(|t| i.due_on < t);
                    let source = show_source.then(|| {
                        let href = match (i.maintenance_id, i.drill_id) {
                            (Some(m), _) => format!("/calendar/maintenances/{m}"),
                            (_, Some(d)) => format!("/calendar/drills/{d}"),
                            _ => "/calendar".to_owned(),
                        };
                        view! { <td><a href=href>{i.source.clone()}</a></td> }
                    });
                    let done = match (i.done_at, &i.done_by) {
                        (Some(at), by) => view! {
                            <span class="badge ok">"Done"</span>" "{when(at)}{by.clone().map(|b| format!(" by {b}"))}
                        }.into_any(),
                        (None, _) if can_complete => view! {
                            <ButtonForm action=CompleteActionItem::url() fields=vec![("id", i.id.to_string())]
                                id=format!("done-{}", i.id) label="Done" class="secondary"/>
                        }.into_any(),
                        (None, _) => view! { <span class="muted">"Open"</span> }.into_any(),
                    };
                    view! {
                        <tr class="action-item" class:overdue=overdue data-action-item=i.id.to_string()>
                            <td>{i.title.clone()}</td>
                            {source}
                            <td>{i.owner.clone()}</td>
                            <td>{human_date(i.due_on)}{overdue.then(|| view! { <span class="badge warn">"overdue"</span> })}</td>
                            <td>{done}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The retrospective's fields: what went well, what to improve, and action-item rows. Errors of
/// a row come keyed `action_items[n].title` (or `.owner`, `.due_on`).
#[component]
pub(crate) fn RetrospectiveFields(retrospective: Option<Retrospective>) -> impl IntoView {
    let r = retrospective.unwrap_or(Retrospective {
        went_well: String::new(),
        to_improve: String::new(),
        written_at: None,
        action_items: Vec::new(),
    });
    let rows = (0..ACTION_ROWS)
        .map(|n| {
            let row = ActionItemField::default();
            let row_error = field_errors_of(
                ["title", "owner", "due_on"].map(|f| format!("action_items[{n}].{f}")),
            );
            view! {
                <tr>
                    <td><input name=format!("action_items[{n}][title]") value=row.title aria-label=format!("Action item {}", n + 1)
                        id=format!("action-{n}-title")/>
                        <p class="field-error">{row_error}</p></td>
                    <td><input name=format!("action_items[{n}][owner]") value=row.owner aria-label="Owner" id=format!("action-{n}-owner")/></td>
                    <td><input type="date" name=format!("action_items[{n}][due_on]") value=row.due_on aria-label="Due" id=format!("action-{n}-due")/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <TextArea label="What went well" name="went_well" value=r.went_well/>
        <TextArea label="What to improve" name="to_improve" value=r.to_improve/>
        <table class="actions-form">
            <caption>"New action items (leave a row empty to skip it)"</caption>
            <thead><tr><th>"Action item"</th><th>"Owner"</th><th>"Due"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
