//! Forms without JavaScript: a plain HTML form post to a server function that is refused comes
//! back to its page, and the page shows why in the form, at its top and next to the field the
//! error names. The same call from the enhancer (`Accept: application/json`) answers with the
//! error's status and its JSON, which the enhancer shows in the same places.

use reqwest::header::{ACCEPT, ORIGIN, REFERER};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tests::TestApp;

use super::support::{count, server_fn_path};

/// What a browser sends with a form from the app's own page `referer`.
fn from_page(app: &TestApp, request: RequestBuilder, referer: &str) -> RequestBuilder {
    request
        .header(ORIGIN, app.origin())
        .header("sec-fetch-site", "same-origin")
        .header(REFERER, referer)
}

fn team_form(slug: &str) -> Vec<(&'static str, String)> {
    vec![
        ("id", String::new()),
        ("version", String::new()),
        ("slug", slug.to_owned()),
        ("name", "Refused team".to_owned()),
        ("contact", String::new()),
        ("description", String::new()),
    ]
}

/// A plain form post (the browser without scripts): it accepts HTML.
pub(super) async fn post_form(
    app: &TestApp,
    client: &Client,
    path: &str,
    referer: &str,
    form: &[(&'static str, String)],
) -> Response {
    from_page(app, client.post(app.url(path)), referer)
        .header(ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .form(form)
        .send()
        .await
        .expect("POST the form")
}

/// Posts `form` to the server function `function` as a browser without scripts would from
/// `page`, checks that the post is sent back to the page, and returns the page it lands on.
pub(super) async fn refused_plain_post(
    app: &TestApp,
    client: &Client,
    function: &str,
    page: &str,
    form: &[(&'static str, String)],
) -> String {
    let response = post_form(app, client, &server_fn_path(function), page, form).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = tests::location(&url::Url::parse(page).unwrap(), &response);
    let html = client
        .get(back.as_str())
        .send()
        .await
        .expect("GET the page");
    html.text().await.expect("the page")
}

/// The form of `html` that holds a control `name` with `value` (its markup up to the next form).
pub(super) fn form_with<'a>(html: &'a str, name: &str, value: &str) -> &'a str {
    html.split("<form ")
        .find(|f| f.contains(&format!("name=\"{name}\" value=\"{value}\"")))
        .unwrap_or_else(|| panic!("no form with {name}={value}:\n{html}"))
}

/// The opening tag around `html[at]`, and where it ends.
fn tag_at(html: &str, at: usize) -> (&str, usize) {
    let start = html[..at].rfind('<').expect("a tag");
    let end = at + html[at..].find('>').expect("the tag ends") + 1;
    (&html[start..end], end)
}

/// The opening tag of the element with `id`, and where it ends.
fn element<'a>(html: &'a str, id: &str) -> (&'a str, usize) {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page:\n{html}"));
    tag_at(html, at)
}

/// The text from `at` to the next tag that is not a hydration marker (`<!>`).
fn text_from(html: &str, at: usize) -> String {
    let text = html[at..].replace("<!>", "");
    text[..text.find('<').unwrap_or(text.len())].to_owned()
}

/// The opening tag of the `.field` wrapper around the element with `id`.
fn field_wrapper<'a>(html: &'a str, id: &str) -> &'a str {
    let (_, end) = element(html, id);
    let at = html[..end]
        .rfind("<div class=\"field")
        .expect("a .field around it");
    tag_at(html, at + 1).0
}

#[tokio::test]
async fn a_refused_plain_form_post_comes_back_to_its_page_and_shows_why() {
    let app = TestApp::spawn().await;
    let pat = app.login("pat").await;
    let save_team = server_fn_path("save_team");
    let page = app.url("/teams/new");

    // The browser posts the form and is sent back to the page, with the error in the address.
    let response = post_form(&app, &pat, &save_team, &page, &team_form("Not A Slug")).await;
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "a plain form post is redirected"
    );
    let back = tests::location(&url::Url::parse(&page).unwrap(), &response);
    assert_eq!(back.path(), "/teams/new", "back to the form's page: {back}");
    let query: Vec<(String, String)> = back.query_pairs().into_owned().collect();
    assert!(
        query.iter().any(|(k, v)| k == "__path" && *v == save_team),
        "the address names the function: {back}"
    );
    assert_eq!(count(&app, "teams").await, 0, "nothing was created");

    // The page it comes back to shows the error in the form that made the post.
    let html = pat
        .get(back.as_str())
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("GET the page");
    assert_eq!(html.status(), StatusCode::OK);
    let html = html.text().await.expect("the page");
    let form = format!("action=\"{save_team}\"");
    let form_at = html
        .find(&form)
        .unwrap_or_else(|| panic!("no form with {form} in the page:\n{html}"));
    let (form_tag, form_end) = tag_at(&html, form_at);
    assert!(form_tag.starts_with("<form method=\"post\""), "{form_tag}");
    let (alert_tag, alert_end) = tag_at(&html, form_end + 1);
    assert!(
        alert_tag.starts_with("<p ")
            && alert_tag.contains("class=\"alert alert-error form-error\"")
            && alert_tag.contains("role=\"alert\""),
        "the alert opens the form: {}",
        &html[form_at..]
    );
    let alert = text_from(&html, alert_end);
    assert!(alert.contains("slug"), "the alert names the field: {alert}");
    let message = text_from(&html, element(&html, "field-slug-error").1);
    assert!(!message.is_empty(), "the slug's message is empty");
    assert!(alert.contains(&message), "{alert} / {message}");
    let wrapper = field_wrapper(&html, "field-slug");
    assert!(wrapper.contains("class=\"field invalid\""), "{wrapper}");
    let input = element(&html, "field-slug").0;
    assert!(input.contains("aria-invalid=\"true\""), "{input}");
    // The fields the error does not name stay as they were.
    let wrapper = field_wrapper(&html, "field-name");
    assert!(wrapper.contains("class=\"field\""), "{wrapper}");
    assert_eq!(text_from(&html, element(&html, "field-name-error").1), "");

    // The enhancer's call (JSON) gets the error's own status and the error itself.
    let response = from_page(&app, pat.post(app.url(&save_team)), &page)
        .header(ACCEPT, "application/json")
        .form(&team_form("Not A Slug"))
        .send()
        .await
        .expect("POST from the enhancer");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .headers()
            .get("location")
            .is_none_or(|l| !l.to_str().unwrap_or_default().contains("__err")),
        "the enhancer's call is not redirected"
    );
    let body: Value = response.json().await.expect("a JSON error");
    assert_eq!(body["kind"], "invalid", "{body}");
    assert_eq!(body["fields"]["slug"], message.as_str(), "{body}");

    // Corrected from the page with the error: the save leads to the new team.
    let response = post_form(&app, &pat, &save_team, back.as_str(), &team_form("refused")).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let team = tests::location(&back, &response);
    assert!(
        team.path().starts_with("/teams/") && team.query().is_none(),
        "{team}"
    );
    assert_eq!(count(&app, "teams").await, 1);
}

/// The plan form's fields for a weekly rhythm of its own on `day`.
fn own_plan_form(
    environment: uuid::Uuid,
    day: &str,
    own_soak: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("environment_id", environment.to_string()),
        ("base_version", String::new()),
        ("rhythm", "weekly".to_owned()),
        ("weekdays[0]", day.to_owned()),
        ("own_soak_working_days", own_soak.to_owned()),
        ("start_time", "20:00".to_owned()),
        ("time_zone", "Europe/Amsterdam".to_owned()),
        ("duration_hours", "6".to_owned()),
        ("blackout_policy", "skip".to_owned()),
        ("allowed_categories[0]", "security_patch".to_owned()),
        ("allowed_categories[1]", "minor".to_owned()),
        ("allowed_categories[2]", "major".to_owned()),
    ]
}

#[tokio::test]
async fn the_plan_form_sets_the_soak_of_a_production_rhythm_of_its_own() {
    let app = TestApp::spawn().await;
    let seed = app.seed().await;
    let pat = app.login("pat").await;
    let save_plan = server_fn_path("save_plan");
    let page = app.url(&format!("/calendar/plans?platform={}", seed.core));
    let call = |form: Vec<(&'static str, String)>| {
        from_page(&app, pat.post(app.url(&save_plan)), &page)
            .header(ACCEPT, "application/json")
            .form(&form)
            .send()
    };

    // Staging on Tuesdays; production on Thursdays of its own, two working days later.
    let staging = call(own_plan_form(seed.staging, "tue", "")).await.unwrap();
    assert_eq!(
        staging.status(),
        StatusCode::OK,
        "{:?}",
        staging.text().await
    );

    // An impossible soak is refused on the form's own soak field.
    let refused = call(own_plan_form(seed.production, "thu", "0"))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["fields"]["own_soak_working_days"].is_string(),
        "the message is on the field the form shows: {body}"
    );
    // Three working days after Tuesday is Friday: Thursday windows break it, by date.
    let refused = call(own_plan_form(seed.production, "thu", "3"))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let saved = call(own_plan_form(seed.production, "thu", "2"))
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK, "{:?}", saved.text().await);
    let html = pat.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Every Thursday, at least 2 working days after the environment before it"),
        "the plan shows its soak"
    );
    let (input, _) = element(&html, "own-soak-production");
    assert!(
        input.contains("value=\"2\""),
        "the form shows the soak: {input}"
    );
}
