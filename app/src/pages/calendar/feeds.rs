//! Calendar feeds (ICS) per environment, platform or team, and the e-mail recipients of a team's
//! maintenance notices. A feed's address holds its secret: it is shown once, when it is made.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::calendar::{
    AddTeamEmail, FeedRow, FeedsPageData, MakeFeed, RemoveFeed, RemoveTeamEmail, TeamRecipients,
    load_feeds,
};
use crate::components::{ButtonForm, ErrorBox, PostForm, TextField, when};

/// `/calendar/feeds`
#[component]
pub fn FeedsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_feeds());
    view! {
        <Title text="Calendar feeds"/>
        <div class="page-head">
            <h1>"Calendar feeds"</h1>
            <div class="actions no-print"><a class="button secondary" href="/calendar">"Calendar"</a></div>
        </div>
        <p class="muted">"Subscribe to a feed in any calendar program. Calendar programs refresh feeds only every few hours, so announcements and reminders also go out by webhook and e-mail."</p>
        <noscript>
            <p class="alert alert-info">"Making a feed needs JavaScript: its secret address is shown in this page once and never sent again."</p>
        </noscript>
        // Filled from the answer of the making call, once (see `enhance`).
        <div class="alert alert-success" role="status" id="new-feed" hidden>
            <p>"The feed of "<strong data-value="feed.name"></strong>" is ready. Subscribe to this address now: it is not shown again."</p>
            <pre class="secret" id="new-feed-url" data-value="url"></pre>
        </div>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(d) => feeds_view(d).into_any(),
                }
            })}
        </Transition>
    }
}

fn feeds_view(d: FeedsPageData) -> impl IntoView {
    let feeds = if d.feeds.is_empty() {
        view! { <p class="empty" id="no-feeds">"No feeds yet."</p> }.into_any()
    } else {
        view! {
            <table id="feeds">
                <thead><tr><th>"Feed"</th><th>"Of"</th><th>"Made by"</th><th>"Last new address"</th><th class="no-print"></th></tr></thead>
                <tbody>{d.feeds.into_iter().map(feed_row).collect_view()}</tbody>
            </table>
        }
        .into_any()
    };
    let make_forms = view! {
        <section class="edit no-print needs-script" id="make-feeds">
            <h2>"Make a feed"</h2>
            <p class="hint">"Making the feed of something that has one gives it a new address; the old one stops working."</p>
            {d.can_manage.then(|| view! {
                {feed_form("environment", "Environment", d.environments.iter().map(|(p, e)| (e.id.to_string(), format!("{p} / {}", e.name))).collect())}
                {feed_form("platform", "Platform", d.platforms.iter().map(|p| (p.id.to_string(), p.name.clone())).collect())}
            })}
            {(!d.teams.is_empty()).then(|| feed_form("team", "Team", d.teams.iter().map(|t| (t.team.id.to_string(), t.team.name.clone())).collect()))}
        </section>
    };
    view! {
        {feeds}
        {make_forms}
        <section id="team-emails" aria-labelledby="emails-heading">
            <h2 id="emails-heading">"E-mail recipients of maintenance notices"</h2>
            {if d.teams.is_empty() {
                view! { <p class="empty">"You cannot set recipients for any team."</p> }.into_any()
            } else {
                d.teams.into_iter().map(team_emails).collect_view().into_any()
            }}
        </section>
    }
}

fn feed_row(f: FeedRow) -> impl IntoView {
    let feed = f.feed;
    let id = feed.id.to_string();
    let (rotate_id, remove_id) = (format!("rotate-feed-{id}"), id.clone());
    view! {
        <tr class="feed" data-feed=id.clone() data-scope=feed.scope.as_str()>
            <td>{feed.name.clone()}</td>
            <td>{feed.scope.as_str()}</td>
            <td>{feed.created_by.clone()}" · "{when(feed.created_at)}</td>
            <td>{feed.rotated_at.map(when)}</td>
            <td class="no-print">{f.can_manage.then(|| view! {
                <PostForm action=MakeFeed::url() class="inline-form needs-script" reveal="new-feed">
                    <input type="hidden" name="scope" value=feed.scope.as_str()/>
                    <input type="hidden" name="scope_id" value=feed.scope_id.to_string()/>
                    <button type="submit" class="link" id=rotate_id.clone()>"New address"</button>
                </PostForm>
                <ButtonForm action=RemoveFeed::url() fields=vec![("id", remove_id.clone())]
                    id=format!("remove-feed-{remove_id}") label="Remove" class="link"/>
            })}</td>
        </tr>
    }
}

fn feed_form(
    scope: &'static str,
    label: &'static str,
    choices: Vec<(String, String)>,
) -> impl IntoView {
    let id = format!("feed-{scope}");
    view! {
        <PostForm action=MakeFeed::url() class="inline-form feed-form" reveal="new-feed">
            <input type="hidden" name="scope" value=scope/>
            <div class="field">
                <label for=id.clone()>{label}</label>
                <select id=id name="scope_id">
                    {choices.into_iter().map(|(value, name)| view! { <option value=value>{name}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class="primary" id=format!("make-feed-{scope}")>{format!("Make the {scope} feed")}</button>
        </PostForm>
    }
}

fn team_emails(t: TeamRecipients) -> impl IntoView {
    let slug = t.team.slug.clone();
    let list = if t.emails.is_empty() {
        view! { <p class="empty">"No e-mail recipients."</p> }.into_any()
    } else {
        view! {
            <ul class="team-emails">
                {t.emails.into_iter().map(|e| view! {
                    <li data-email=e.id.to_string()>
                        <strong>{e.hint.clone()}</strong>" · added by "{e.created_by.clone()}" on "{when(e.created_at)}
                        <ButtonForm action=RemoveTeamEmail::url() fields=vec![("id", e.id.to_string())]
                            id=format!("remove-email-{}", e.id) label="Remove" class="link"/>
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <article class="team-recipients" data-team=slug.clone()>
            <h3>{t.team.name.clone()}</h3>
            {list}
            <AddEmailForm team_id=t.team.id.to_string() slug=slug.clone()/>
        </article>
    }
}

#[component]
fn AddEmailForm(team_id: String, slug: String) -> impl IntoView {
    view! {
        <PostForm action=AddTeamEmail::url() class="inline-form no-print">
            <input type="hidden" name="team_id" value=team_id/>
            <TextField label="E-mail address" name="address" input_type="email"
                hint="Stored sealed; only a hint of it is shown again." prefix=format!("email-{slug}-")/>
            <button type="submit" class="primary" id=format!("add-email-{slug}")>"Add"</button>
        </PostForm>
    }
}
