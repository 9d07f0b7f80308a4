//! A platform's maintenance plans: each environment's rhythm (its own, or following an earlier
//! environment by a soak period), the next windows and skew problems; blackouts with public
//! holiday suggestions; the notice and reminder settings.

use chrono::Weekday;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::short_day;
use crate::api::calendar::{
    AddBlackout, EnvironmentPlan, PlansPageData, RemoveBlackout, RemovePlan, SaveCalendarSettings,
    SavePlan, load_plans,
};
use crate::components::{ButtonForm, ErrorBox, PostForm, TextField, field_error};
use domain::calendar::model::{
    BlackoutConflict, BlackoutEntry, Category, MaintenancePlan, PlanRhythm, Window,
};
use domain::calendar::{BlackoutPolicy, Ordinal, Recurrence, human_date};
use domain::model::Environment;

/// Zones offered in the time-zone field (any IANA name is accepted).
const TIME_ZONES: [&str; 16] = [
    "UTC",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Brussels",
    "Europe/Dublin",
    "Europe/Helsinki",
    "Europe/London",
    "Europe/Paris",
    "Europe/Stockholm",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
];

const WEEKDAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "mon", "Monday"),
    (Weekday::Tue, "tue", "Tuesday"),
    (Weekday::Wed, "wed", "Wednesday"),
    (Weekday::Thu, "thu", "Thursday"),
    (Weekday::Fri, "fri", "Friday"),
    (Weekday::Sat, "sat", "Saturday"),
    (Weekday::Sun, "sun", "Sunday"),
];

const ORDINALS: [(Ordinal, &str); 5] = [
    (Ordinal::First, "first"),
    (Ordinal::Second, "second"),
    (Ordinal::Third, "third"),
    (Ordinal::Fourth, "fourth"),
    (Ordinal::Last, "last"),
];

fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(d, _, _)| *d == day)
        .map(|(_, _, name)| *name)
        .unwrap_or("?")
}

fn ordinal_name(ordinal: Ordinal) -> &'static str {
    ORDINALS
        .iter()
        .find(|(o, _)| *o == ordinal)
        .map(|(_, name)| *name)
        .unwrap_or("?")
}

/// "Every second Tuesday", "Follows staging by 5 working days"...
fn rhythm_text(plan: &MaintenancePlan) -> String {
    match &plan.rhythm {
        PlanRhythm::Own {
            recurrence,
            soak_working_days,
            ..
        } => {
            let own = match recurrence {
                Recurrence::Daily {} => "Every day".to_owned(),
                Recurrence::Weekly { weekdays } => format!(
                    "Every {}",
                    weekdays
                        .iter()
                        .map(|d| weekday_name(*d))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Recurrence::MonthlyDay { day } => format!("Day {day} of every month"),
                Recurrence::MonthlyWeekday { ordinal, weekday } => format!(
                    "Every {} {} of the month",
                    ordinal_name(*ordinal),
                    weekday_name(*weekday)
                ),
            };
            match soak_working_days {
                Some(days) => {
                    format!("{own}, at least {days} working days after the environment before it")
                }
                None => own,
            }
        }
        PlanRhythm::Follows {
            environment_slug,
            soak_working_days,
            ..
        } => format!("Follows {environment_slug} by {soak_working_days} working days"),
    }
}

/// `/calendar/plans?platform=<id>`
#[component]
pub fn PlansPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("platform"),
                q.get("country"),
                q.get("year"),
                q.get("warnings"),
            )
        },
        |(platform, country, year, warnings)| load_plans(platform, country, year, warnings),
    );
    view! {
        <Title text="Maintenance plans"/>
        <Transition fallback=|| view! { <h1>"Maintenance plans"</h1><p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <h1>"Maintenance plans"</h1><ErrorBox error=e/> }.into_any(),
                    Ok(d) => plans_view(d).into_any(),
                }
            })}
        </Transition>
    }
}

/// The consequences of the save that led here, with what to do about each: shown like the
/// maintenances a blackout is in the way of.
fn consequences_view(warnings: Vec<String>) -> impl IntoView + use<> {
    (!warnings.is_empty()).then(|| {
        view! {
            <div class="alert alert-warning" id="calendar-warnings" role="status">
                <p><strong>"Saved. It affects what is already planned:"</strong></p>
                <ul>{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            </div>
        }
    })
}

fn plans_view(d: PlansPageData) -> impl IntoView {
    // What the save that led here does to what is already planned.
    let warnings = d.warnings.clone();
    let pid = d.platform.id.to_string();
    let can_manage = d.can_manage;
    let others = (d.platforms.len() > 1).then(|| {
        view! {
            <p class="no-print platform-switch">"Platforms: "
                {d.platforms.iter().map(|p| view! {
                    <a href=format!("/calendar/plans?platform={}", p.id) aria-current=(p.id == d.platform.id).then_some("page")>{p.name.clone()}</a>" "
                }).collect_view()}
            </p>
        }
    });
    let environments: Vec<Environment> = d
        .environments
        .iter()
        .map(|e| e.environment.clone())
        .collect();
    view! {
        <div class="page-head">
            <h1>"Maintenance plans: "{d.platform.name.clone()}</h1>
            <div class="actions no-print">
                <a class="button secondary" href=format!("/calendar?platform={}", d.platform.slug)>"Calendar"</a>
            </div>
        </div>
        {others}
        {consequences_view(warnings)}
        <p class="muted">"Each environment gets its windows from a rhythm of its own, or follows an earlier environment by a soak period in working days, so that production is only updated after staging."</p>
        {(!can_manage).then(|| view! {
            <p class="alert alert-info">"Platform engineers set the plans; you can read them."</p>
        })}
        {if d.environments.is_empty() {
            view! { <p class="empty">"This platform has no environments yet."</p> }.into_any()
        } else {
            d.environments.into_iter().map(|e| environment_view(e, can_manage)).collect_view().into_any()
        }}
        {blackouts_section(&pid, d.blackouts, &environments, can_manage)}
        {holidays_section(&pid, &d.countries, &d.holiday_country, d.holiday_year, d.holidays, &d.holiday_errors, can_manage)}
        <section id="notice-settings" aria-labelledby="settings-heading">
            <h2 id="settings-heading">"Notice and reminders"</h2>
            <dl class="facts">
                <dt>"Notice for a major update"</dt><dd id="major-notice">{format!("{} days", d.settings.major_notice_days)}</dd>
                <dt>"Reminders before a maintenance"</dt><dd id="reminders">{d.reminders.clone()}</dd>
            </dl>
            {can_manage.then(|| view! {
                <SettingsForm platform_id=pid.clone() version=d.settings.version notice=d.settings.major_notice_days reminders=d.reminders.clone()/>
            })}
        </section>
    }
}

/// One window; `leader` names the environment a following plan's windows follow.
fn window_line(w: &Window, leader: Option<&str>) -> impl IntoView + use<> {
    let moved = w.moved_by.clone().map(|reason| {
        format!(
            " · moved from {} by “{reason}”",
            w.moved_from.map(short_day).unwrap_or_default()
        )
    });
    view! {
        <li class="window" data-date=w.local_date.to_string()>
            <strong>{human_date(w.local_date)}</strong>
            {format!(" · {}–{} UTC", w.starts_at.format("%H:%M"), w.ends_at.format("%H:%M"))}
            {w.follows.zip(leader).map(|(f, leader)| format!(" · follows {leader} {}", short_day(f)))}
            {moved}
        </li>
    }
}

fn environment_view(e: EnvironmentPlan, can_manage: bool) -> impl IntoView {
    let env = e.environment.clone();
    let slug = env.slug.clone();
    let facts = match &e.plan {
        None => view! { <p class="empty no-plan">"No plan yet: this environment has no maintenance windows."</p> }
            .into_any(),
        Some(p) => view! {
            <dl class="facts plan-facts" id=format!("plan-{slug}")>
                <dt>"Rhythm"</dt><dd class="rhythm">{rhythm_text(p)}</dd>
                <dt>"Window"</dt><dd>{format!("{} {} for {} hours", p.start_time, p.time_zone, p.duration_hours)}</dd>
                <dt>"Blackouts"</dt><dd>{match p.blackout_policy {
                    BlackoutPolicy::Skip => "A window on a blackout day is skipped",
                    BlackoutPolicy::MoveToNextAllowedDay => "A window on a blackout day moves to the next allowed day",
                }}</dd>
                <dt>"Allows"</dt><dd>{p.allowed_categories.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")}</dd>
                <dt>"Changed"</dt><dd>{format!("by {} (revision {})", p.updated_by, p.revision)}</dd>
            </dl>
        }
        .into_any(),
    };
    let leader = e.leader.as_deref();
    let windows = (!e.next_windows.is_empty()).then(|| {
        view! {
            <h4>"Next windows"</h4>
            <ul class="windows" id=format!("windows-{slug}")>{e.next_windows.iter().map(|w| window_line(w, leader)).collect_view()}</ul>
        }
    });
    let skipped = (!e.skipped.is_empty()).then(|| {
        view! {
            <p class="muted skipped">"Skipped: "{e.skipped.iter().map(|s| format!("{} (“{}”)", short_day(s.nominal_date), s.reason)).collect::<Vec<_>>().join(", ")}</p>
        }
    });
    let skew = (!e.skew_violations.is_empty()).then(|| {
        view! {
            <div class="alert alert-error skew-violations" id=format!("skew-{slug}")>
                <p><strong>"Too little soak time after the leading environment:"</strong></p>
                <ul>{e.skew_violations.iter().map(|v| view! { <li>{v.clone()}</li> }).collect_view()}</ul>
            </div>
        }
    });
    let form = can_manage.then(|| {
        let has = e.plan.is_some();
        view! {
            <details class="edit-item no-print" open=!has>
                <summary>{if has { "Change the plan" } else { "Set the plan" }}</summary>
                <PlanForm environment=env.clone() plan=e.plan.clone() earlier=e.earlier.clone()/>
            </details>
            {has.then(|| view! {
                <div class="no-print remove-plan">
                    <ButtonForm action=RemovePlan::url() id=format!("remove-plan-{slug}")
                        label="Remove plan" class="secondary" fields=vec![("environment_id", env.id.to_string())]/>
                </div>
            })}
        }
    });
    view! {
        <section class="environment-plan" id=format!("env-{slug}") data-environment=slug.clone()>
            <h2>{env.name.clone()}" "{super::env_badge(&env.slug, env.is_production)}</h2>
            {facts}
            {skew}
            {windows}
            {skipped}
            {form}
        </section>
    }
}

#[component]
fn PlanForm(
    environment: Environment,
    plan: Option<MaintenancePlan>,
    earlier: Vec<Environment>,
) -> impl IntoView {
    let slug = environment.slug.clone();
    let prefix = format!("{slug}-");
    let p = plan.clone();
    // What the form starts with: the plan, or a second Tuesday (the first environment) or
    // following the environment before it by five working days.
    let (mut rhythm, mut weekdays, mut month_day, mut ordinal, mut weekday) = (
        "monthly_weekday",
        vec![Weekday::Tue],
        1u8,
        Ordinal::Second,
        Weekday::Tue,
    );
    let (mut follows, mut soak) = (earlier.last().map(|e| e.id), 5);
    let mut own_soak = None;
    if p.is_none() && !earlier.is_empty() {
        rhythm = "follows";
    }
    match p.as_ref().map(|p| &p.rhythm) {
        Some(PlanRhythm::Own {
            recurrence,
            soak_working_days,
            ..
        }) => {
            own_soak = *soak_working_days;
            match recurrence {
                Recurrence::Daily {} => rhythm = "daily",
                Recurrence::Weekly { weekdays: days } => {
                    rhythm = "weekly";
                    weekdays = days.clone();
                }
                Recurrence::MonthlyDay { day } => {
                    rhythm = "monthly_day";
                    month_day = *day;
                }
                Recurrence::MonthlyWeekday {
                    ordinal: o,
                    weekday: w,
                } => {
                    rhythm = "monthly_weekday";
                    (ordinal, weekday) = (*o, *w);
                }
            }
        }
        Some(PlanRhythm::Follows {
            environment_id,
            soak_working_days,
            ..
        }) => {
            rhythm = "follows";
            (follows, soak) = (Some(*environment_id), *soak_working_days);
        }
        None => {}
    }
    let categories = p
        .as_ref()
        .map(|p| p.allowed_categories.clone())
        .unwrap_or(Category::PLANNABLE.to_vec());
    let policy = p
        .as_ref()
        .map(|p| p.blackout_policy)
        .unwrap_or(BlackoutPolicy::Skip);
    let radio = {
        let slug = slug.clone();
        move |value: &'static str, label: &'static str| {
            let (id, target) = (
                format!("rhythm-{slug}-{value}"),
                format!("rhythm-{slug}-{value}"),
            );
            view! {
                <label for=target><input type="radio" id=id name="rhythm" value=value checked=rhythm == value/>" "{label}</label>
            }
        }
    };
    let tz_id = format!("field-{slug}-time_zone");
    let zones_id = format!("zones-{slug}");
    view! {
        <PostForm action=SavePlan::url() class="plan-form">
            <input type="hidden" name="environment_id" value=environment.id.to_string()/>
            <input type="hidden" name="base_version" value=p.as_ref().map(|p| p.version).unwrap_or(0).to_string()/>
            <fieldset class="field" class:invalid=field_error("recurrence").is_some() || field_error("follows_environment_id").is_some()>
                <legend>"When the windows come"</legend>
                <div class="rhythm-choice">
                    {radio("daily", "Every day")}
                </div>
                <div class="rhythm-choice">
                    {radio("weekly", "Every week on")}
                    <span class="weekdays">
                        {WEEKDAYS.iter().enumerate().map(|(n, (day, value, name))| view! {
                            <label><input type="checkbox" name=format!("weekdays[{n}]") value=*value
                                checked=weekdays.contains(day) id=format!("weekday-{slug}-{value}")/>" "{name[..3].to_owned()}</label>
                        }).collect_view()}
                    </span>
                    <p class="field-error">{field_error("weekdays")}</p>
                </div>
                <div class="rhythm-choice">
                    {radio("monthly_day", "Every month on day")}
                    <input type="number" name="month_day" min="1" max="31" value=month_day.to_string() aria-label="Day of the month"
                        id=format!("month-day-{slug}") class="narrow"/>
                    <p class="field-error">{field_error("month_day")}</p>
                </div>
                <div class="rhythm-choice">
                    {radio("monthly_weekday", "Every month on the")}
                    <select name="ordinal" aria-label="Which week" id=format!("ordinal-{slug}")>
                        {ORDINALS.iter().map(|(o, name)| view! { <option value=*name selected=*o == ordinal>{*name}</option> }).collect_view()}
                    </select>
                    <select name="weekday" aria-label="Day of the week" id=format!("weekday-{slug}")>
                        {WEEKDAYS.iter().map(|(d, value, name)| view! { <option value=*value selected=*d == weekday>{*name}</option> }).collect_view()}
                    </select>
                    <p class="field-error">{field_error("ordinal")}{field_error("weekday")}</p>
                </div>
                {(!earlier.is_empty()).then(|| view! {
                    <div class="rhythm-choice">
                        {radio("follows", "Follow")}
                        <select name="follows_environment_id" aria-label="Environment to follow" id=format!("follows-{slug}")>
                            {earlier.iter().map(|e| view! {
                                <option value=e.id.to_string() selected=Some(e.id) == follows>{e.name.clone()}</option>
                            }).collect_view()}
                        </select>
                        " by "
                        <input type="number" name="soak_working_days" min="1" max="60" value=soak.to_string()
                            aria-label="Soak period in working days" id=format!("soak-{slug}") class="narrow"/>
                        " working days"
                        <p class="field-error">{field_error("follows_environment_id")}{field_error("soak_working_days")}</p>
                    </div>
                })}
                <p class="field-error">{field_error("recurrence")}</p>
                {(environment.is_production && !earlier.is_empty()).then(|| view! {
                    <div class="own-soak">
                        <label for=format!("own-soak-{slug}")>"With a rhythm of its own, each window at least "</label>
                        <input type="number" name="own_soak_working_days" min="1" max="60" class="narrow"
                            id=format!("own-soak-{slug}") value=own_soak.map(|d| d.to_string()).unwrap_or_default()
                            placeholder="1" aria-describedby=format!("own-soak-{slug}-hint")/>
                        " working days after the latest window of the environment before it"
                        <p class="hint" id=format!("own-soak-{slug}-hint")>"Empty: at least one working day later."</p>
                        <p class="field-error">{field_error("own_soak_working_days")}</p>
                    </div>
                })}
            </fieldset>
            <div class="grid-2">
                <TextField label="Start time (24-hour clock)" name="start_time" value=p.as_ref().map(|p| p.start_time.clone()).unwrap_or_else(|| "20:00".into())
                    hint="Local time in the zone below, e.g. 20:00." pattern="[0-9]{1,2}:[0-9]{2}" prefix=prefix.clone()/>
                <div class="field" class:invalid=field_error("time_zone").is_some()>
                    <label for=tz_id.clone()>"Time zone"</label>
                    <input id=tz_id name="time_zone" list=zones_id.clone()
                        value=p.as_ref().map(|p| p.time_zone.clone()).unwrap_or_else(|| "Europe/Amsterdam".into())/>
                    <datalist id=zones_id>{TIME_ZONES.map(|z| view! { <option value=z></option> })}</datalist>
                    <p class="hint">"An IANA name such as Europe/Amsterdam: windows keep their local hour across daylight saving time."</p>
                    <p class="field-error">{field_error("time_zone")}</p>
                </div>
                <TextField label="Duration (hours)" name="duration_hours" input_type="number"
                    value=p.as_ref().map(|p| p.duration_hours).unwrap_or(6).to_string()
                    hint="4 to 24; an overnight window ends the next day." prefix=prefix.clone()/>
                <div class="field">
                    <label for=format!("policy-{slug}")>"On a blackout day"</label>
                    <select name="blackout_policy" id=format!("policy-{slug}")>
                        <option value="skip" selected=policy == BlackoutPolicy::Skip>"Skip the window"</option>
                        <option value="move_to_next_allowed_day" selected=policy == BlackoutPolicy::MoveToNextAllowedDay>"Move it to the next allowed day"</option>
                    </select>
                </div>
            </div>
            <fieldset class="field" class:invalid=field_error("allowed_categories").is_some()>
                <legend>"The windows may carry"</legend>
                {Category::PLANNABLE.iter().enumerate().map(|(n, c)| view! {
                    <label><input type="checkbox" name=format!("allowed_categories[{n}]") value=c.as_str()
                        checked=categories.contains(c) id=format!("category-{slug}-{}", c.as_str())/>" "{c.label()}</label>
                }).collect_view()}
                <p class="hint">"Emergencies are always allowed."</p>
                <p class="field-error">{field_error("allowed_categories")}</p>
            </fieldset>
            <button type="submit" class="primary" id=format!("save-plan-{slug}")>"Save the plan"</button>
        </PostForm>
    }
}

fn blackouts_section(
    platform_id: &str,
    blackouts: Vec<BlackoutEntry>,
    environments: &[Environment],
    can_manage: bool,
) -> impl IntoView + use<> {
    let rows = if blackouts.is_empty() {
        view! { <p class="empty">"No blackouts."</p> }.into_any()
    } else {
        view! {
            <table id="blackouts">
                <thead><tr><th>"From"</th><th>"Until"</th><th>"Environment"</th><th>"Reason"</th><th class="no-print"></th></tr></thead>
                <tbody>
                    {blackouts.into_iter().map(|b| view! {
                        <tr class="blackout" data-blackout=b.id.to_string()>
                            <td>{human_date(b.first_day)}</td>
                            <td>{human_date(b.last_day)}</td>
                            <td>{b.environment_slug.clone().unwrap_or_else(|| "All environments".into())}</td>
                            <td>
                                {b.reason.clone()}
                                {blackout_conflicts(&b.conflicts)}
                            </td>
                            <td class="no-print">{can_manage.then(|| view! {
                                <ButtonForm action=RemoveBlackout::url() fields=vec![("id", b.id.to_string())]
                                    id=format!("remove-blackout-{}", b.id) label="Remove" class="link"/>
                            })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section id="blackouts-section" aria-labelledby="blackouts-heading">
            <h2 id="blackouts-heading">"Blackouts"</h2>
            <p class="muted">"Days without maintenance (holidays, release freezes): whole local days in each plan's time zone."</p>
            {rows}
            {can_manage.then(|| view! {
                <details class="edit-item no-print">
                    <summary>"Add a blackout"</summary>
                    <AddBlackoutForm platform_id=platform_id.to_owned() environments=environments.to_vec()/>
                </details>
            })}
        </section>
    }
}

/// The maintenances a blackout is in the way of, each linked, with what to do about it.
fn blackout_conflicts(conflicts: &[BlackoutConflict]) -> impl IntoView + use<> {
    (!conflicts.is_empty()).then(|| {
        let items = conflicts
            .iter()
            .map(|c| {
                view! {
                    <li>
                        <a href=format!("/calendar/maintenances/{}", c.maintenance_id)>{c.title.clone()}</a>
                        {format!(" ({}, {}, {})", c.environment_slug, human_date(c.window_date), c.state)}
                    </li>
                }
            })
            .collect_view();
        view! {
            <div class="alert alert-warning blackout-conflicts" role="note">
                <p>{format!(
                    "{} on these days: the blackout takes their window away. Move each to another window or cancel it.",
                    if conflicts.len() == 1 { "A maintenance is planned".to_owned() } else { format!("{} maintenances are planned", conflicts.len()) }
                )}</p>
                <ul>{items}</ul>
            </div>
        }
    })
}

#[component]
fn AddBlackoutForm(platform_id: String, environments: Vec<Environment>) -> impl IntoView {
    view! {
        <PostForm action=AddBlackout::url() class="blackout-form" form_key="blackout">
            <input type="hidden" name="platform_id" value=platform_id/>
            <input type="hidden" name="form" value="blackout"/>
            <div class="grid-2">
                <div class="field" class:invalid=field_error("environment_id").is_some()>
                    <label for="field-blackout-environment">"Environment"</label>
                    <select id="field-blackout-environment" name="environment_id">
                        <option value="">"All environments"</option>
                        {environments.into_iter().map(|e| view! { <option value=e.id.to_string()>{e.name}</option> }).collect_view()}
                    </select>
                    <p class="field-error">{field_error("environment_id")}</p>
                </div>
                <TextField label="Reason" name="reason" required=true hint="Shown next to every window it skips or moves." prefix="blackout-"/>
                <TextField label="First day" name="first_day" input_type="date" required=true prefix="blackout-"/>
                <TextField label="Last day" name="last_day" input_type="date" hint="Empty: the first day only." prefix="blackout-"/>
            </div>
            <button type="submit" class="primary" id="add-blackout">"Add the blackout"</button>
        </PostForm>
    }
}

fn holidays_section(
    platform_id: &str,
    countries: &[domain::calendar::holidays::Country],
    country: &str,
    year: i32,
    holidays: Vec<domain::calendar::holidays::Holiday>,
    errors: &std::collections::BTreeMap<String, String>,
    can_manage: bool,
) -> impl IntoView + use<> {
    let list = (!holidays.is_empty()).then(|| {
        view! {
            <table id="holidays">
                <thead><tr><th>"Day"</th><th>"Holiday"</th><th class="no-print"></th></tr></thead>
                <tbody>
                    {holidays.into_iter().map(|h| view! {
                        <tr class="holiday" data-date=h.date.to_string()>
                            <td>{human_date(h.date)}</td>
                            <td>{h.name.clone()}</td>
                            <td class="no-print">{can_manage.then(|| view! {
                                <ButtonForm action=AddBlackout::url() id=format!("holiday-{}", h.date) label="Add as blackout" class="secondary"
                                    fields=vec![("platform_id", platform_id.to_owned()), ("first_day", h.date.to_string()),
                                        ("last_day", h.date.to_string()), ("reason", h.name.clone()),
                                        ("form", format!("holiday-{}", h.date))]
                                    form_key=format!("holiday-{}", h.date)/>
                            })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    });
    let problems = (!errors.is_empty()).then(|| {
        view! {
            <p class="alert alert-error" role="alert">
                {errors.iter().map(|(field, message)| format!("{field}: {message}")).collect::<Vec<_>>().join(" ")}
            </p>
        }
    });
    view! {
        <section id="holidays-section" class="no-print" aria-labelledby="holidays-heading">
            <h2 id="holidays-heading">"Public holidays"</h2>
            <form method="get" action="/calendar/plans" class="filters" id="holiday-form">
                <input type="hidden" name="platform" value=platform_id.to_owned()/>
                <select name="country" aria-label="Country" id="holiday-country">
                    <option value="">"Choose a country"</option>
                    {countries.iter().map(|c| view! {
                        <option value=c.code.clone() selected=c.code.eq_ignore_ascii_case(country)>{c.name.clone()}</option>
                    }).collect_view()}
                </select>
                <input type="number" name="year" value=year.to_string() aria-label="Year" class="narrow" id="holiday-year"/>
                <button type="submit" id="show-holidays">"Show holidays"</button>
            </form>
            {problems}
            {list}
        </section>
    }
}

#[component]
fn SettingsForm(
    platform_id: String,
    version: i32,
    notice: i32,
    reminders: String,
) -> impl IntoView {
    view! {
        <PostForm action=SaveCalendarSettings::url() class="settings-form no-print">
            <input type="hidden" name="platform_id" value=platform_id/>
            // The version the form shows: a save over someone else's change is refused as stale.
            <input type="hidden" name="version" value=version.to_string()/>
            <div class="grid-2">
                <TextField label="Days of notice for a major update" name="major_notice_days" input_type="number"
                    value=notice.to_string() hint="30 to 365 days: at least a month; two months gives teams time to test."/>
                <TextField label="Reminders" name="reminders" value=reminders
                    hint="Lead times before the start, comma-separated: 7d, 72h, 1h (a bare number is minutes)."/>
            </div>
            <button type="submit" class="primary" id="save-settings">"Save the settings"</button>
        </PostForm>
    }
}
