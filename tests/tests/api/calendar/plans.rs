//! Maintenance plans, blackouts and calendar settings under the changes people make around them:
//! a holiday that moves or skips staging's window, saves that meet an old soak violation, two
//! saves of the same version, archiving an environment others follow, overnight windows that run
//! into a blackout, and two people changing the notice settings.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tests::{Seed, TestApp};
use uuid::Uuid;

use super::super::support::{call, etag, get_text};
use super::{
    announce_minor_update, field, on_monday, plan_core, plan_minor, post_blackout, put_plan,
    staging_plan, ui_call,
};

/// Staging every Monday at 20:00 for 4 hours (Amsterdam), moved past blackouts.
fn mondays() -> Value {
    json!({
        "recurrence": { "kind": "weekly", "weekdays": ["Mon"] },
        "start_time": "20:00",
        "time_zone": "Europe/Amsterdam",
        "duration_hours": 4,
        "blackout_policy": "move_to_next_allowed_day",
        "allowed_categories": ["security_patch", "minor", "major"],
    })
}

/// Production following staging by 3 working days, at 22:00 for 6 hours.
fn three_days_after(staging: Uuid) -> Value {
    json!({
        "follows_environment_id": staging,
        "soak_working_days": 3,
        "start_time": "22:00",
        "time_zone": "Europe/Amsterdam",
        "duration_hours": 6,
        "blackout_policy": "move_to_next_allowed_day",
        "allowed_categories": ["security_patch", "minor", "major"],
    })
}

/// Easter Monday 2027 as a holiday of the whole platform: the new blackout's answer.
async fn easter_monday(app: &TestApp, pat: &Client, seed: &Seed) -> Value {
    let (status, body) = post_blackout(
        app,
        pat,
        seed,
        json!({"first_day": "2027-03-29", "last_day": "2027-03-29", "reason": "Easter Monday"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// An environment's windows from Mon 22 March to Mon 12 April 2027: (day, day it follows).
async fn around_easter(app: &TestApp, pat: &Client, env: Uuid) -> (Vec<(String, String)>, Value) {
    let (status, sched) = call(
        app,
        pat,
        Method::GET,
        &format!("/api/v1/environments/{env}/schedule?from=2027-03-22&to=2027-04-12"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sched}");
    let windows = sched["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["local_date"].as_str().unwrap().to_owned(),
                w["follows"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    (windows, sched)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn warnings(body: &Value) -> Vec<(String, String, String)> {
    body["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings: {body}"))
        .iter()
        .map(|w| {
            (
                w["kind"].as_str().unwrap().to_owned(),
                w["environment_slug"].as_str().unwrap().to_owned(),
                w["date"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn production_following_staging_keeps_its_soak_when_a_holiday_moves_or_skips_staging() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &mondays()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let production = three_days_after(seed.staging);
    let (status, body) = put_plan(&app, &pat, seed.production, 0, &production).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let holiday = easter_monday(&app, &pat, &seed).await;
    assert_eq!(holiday["warnings"], json!([]), "{holiday}");
    // Staging's Easter window moves to Tue 30 March; production's goes three working days after
    // that, to Fri 2 April, instead of staying on Thu 1 April one working day short.
    let (staging_windows, staging_sched) = around_easter(&app, &pat, seed.staging).await;
    assert_eq!(
        staging_windows,
        pairs(&[
            ("2027-03-22", "-"),
            ("2027-03-30", "-"),
            ("2027-04-05", "-")
        ])
    );
    assert_eq!(staging_sched["windows"][1]["moved_from"], "2027-03-29");
    let (windows, sched) = around_easter(&app, &pat, seed.production).await;
    assert_eq!(
        windows,
        pairs(&[
            ("2027-03-25", "2027-03-22"),
            ("2027-04-02", "2027-03-30"),
            ("2027-04-08", "2027-04-05"),
        ])
    );
    assert_eq!(sched["skew_violations"], json!([]), "{sched}");
    // The calendar (month grid, agenda and feeds) shows the same pair.
    let (status, events) = call(
        &app,
        &pat,
        Method::GET,
        &format!(
            "/api/v1/calendar/events?from=2027-03-29&to=2027-04-05&kind=window&environment_id={}",
            seed.production
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["local_date"], "2027-04-02");
    assert_eq!(events[0]["follows"], "2027-03-30");
    assert_eq!(events[0]["follows_environment"], "staging");

    // Both plans can still be saved.
    let (status, body) = put_plan(&app, &pat, seed.production, 1, &production).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["warnings"], json!([]), "{body}");
    // Staging skips blackout days instead: production's window of that week goes too (nothing
    // was tried on staging), and production's schedule says why.
    let mut skipping = mondays();
    skipping["blackout_policy"] = json!("skip");
    let (status, body) = put_plan(&app, &pat, seed.staging, 1, &skipping).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["warnings"], json!([]), "{body}");
    let (windows, sched) = around_easter(&app, &pat, seed.production).await;
    assert_eq!(
        windows,
        pairs(&[("2027-03-25", "2027-03-22"), ("2027-04-08", "2027-04-05")])
    );
    assert_eq!(
        sched["skipped"],
        json!([{"nominal_date": "2027-04-01", "reason": "Easter Monday"}])
    );
    assert_eq!(sched["skew_violations"], json!([]), "{sched}");
    let (status, body) = put_plan(&app, &pat, seed.production, 2, &production).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_soak_violation_a_blackout_caused_is_reported_on_save_but_only_a_new_one_refuses_it() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    // Production with a rhythm of its own on Thursdays, three working days after staging's
    // Mondays.
    let mut thursdays = mondays();
    thursdays["recurrence"]["weekdays"] = json!(["Thu"]);
    thursdays["start_time"] = json!("22:00");
    thursdays["soak_working_days"] = json!(3);
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &mondays()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = put_plan(&app, &pat, seed.production, 0, &thursdays).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Easter Monday moves staging to Tuesday: Thu 1 April is then two working days after it.
    let holiday = easter_monday(&app, &pat, &seed).await;
    let expected = vec![(
        "skew_violation".to_owned(),
        "production".to_owned(),
        "2027-04-01".to_owned(),
    )];
    assert_eq!(warnings(&holiday), expected, "{holiday}");

    // Saving either plan is not blocked by it; the answer says it is still there.
    let (status, body) = put_plan(&app, &pat, seed.staging, 1, &mondays()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(warnings(&body), expected, "{body}");
    let message = body["warnings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("Production on Thu 1 Apr 2027 comes only 2 working days")
            && message.contains("This was so before this change too."),
        "{message}"
    );
    let (status, body) = put_plan(&app, &pat, seed.production, 1, &thursdays).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(warnings(&body), expected, "{body}");

    // Staging on Tuesdays would break the soak every week: refused, and nothing changes.
    let mut tuesdays = mondays();
    tuesdays["recurrence"]["weekdays"] = json!(["Tue"]);
    let (status, body) = put_plan(&app, &pat, seed.staging, 2, &tuesdays).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "recurrence")
            .contains("Production on Thu 7 Jan 2027 comes only 2 working days after staging"),
        "{body}"
    );
    let (_, plan) = call(
        &app,
        &pat,
        Method::GET,
        &format!("/api/v1/environments/{}/maintenance-plan", seed.staging),
        None,
        None,
    )
    .await;
    assert_eq!(plan["rhythm"]["rrule"], "FREQ=WEEKLY;BYDAY=MO", "{plan}");
    assert_eq!(plan["version"], 2, "{plan}");
}

#[tokio::test]
async fn of_two_saves_of_the_same_plan_version_one_wins_and_the_other_is_stale() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &mondays()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let with = |categories: Value| {
        let mut plan = mondays();
        plan["allowed_categories"] = categories;
        plan
    };

    // One after the other: the second, made to version 1 too, would undo the first.
    let (status, body) = put_plan(&app, &pat, seed.staging, 1, &with(json!(["minor"]))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = put_plan(&app, &pat, seed.staging, 1, &with(json!(["major"]))).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(body["error"]["code"], "precondition_failed", "{body}");

    // At the same time: both read version 2 while a third party holds the plan's row, so both
    // would get as far as writing it. Of the two, one wins; the other is told it is stale.
    let mut holder = app.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM maintenance_plans WHERE environment_id = $1 FOR UPDATE")
        .bind(seed.staging)
        .execute(&mut *holder)
        .await
        .unwrap();
    let security = with(json!(["security_patch"]));
    let major = with(json!(["major"]));
    let (first, second, ()) = tokio::join!(
        put_plan(&app, &pat, seed.staging, 2, &security),
        put_plan(&app, &pat, seed.staging, 2, &major),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            holder.commit().await.unwrap();
        }
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
        "{} / {}",
        first.1,
        second.1
    );
    let winner = if first.0 == StatusCode::OK {
        &first.1
    } else {
        &second.1
    };
    let (_, plan) = call(
        &app,
        &pat,
        Method::GET,
        &format!("/api/v1/environments/{}/maintenance-plan", seed.staging),
        None,
        None,
    )
    .await;
    assert_eq!(plan["version"], 3, "{plan}");
    assert_eq!(plan["allowed_categories"], winner["allowed_categories"]);
    let updates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'maintenance_plan.update'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(updates, 2, "one update per version");
}

async fn set_archived(
    app: &TestApp,
    pat: &Client,
    env: Uuid,
    archive: bool,
) -> (StatusCode, Value) {
    let version = app.version_of("environments", env).await;
    let action = if archive { "archive" } else { "restore" };
    call(
        app,
        pat,
        Method::POST,
        &format!("/api/v1/environments/{env}/{action}"),
        Some(&etag(i64::from(version))),
        None,
    )
    .await
}

/// How many windows an environment has in the first quarter of 2027.
async fn quarter_windows(app: &TestApp, pat: &Client, env: Uuid) -> usize {
    let path = format!("/api/v1/environments/{env}/schedule?from=2027-01-01&to=2027-04-01");
    let (status, sched) = call(app, pat, Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{sched}");
    sched["windows"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_environment_whose_plan_another_follows_is_archived_only_after_the_follower() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    assert_eq!(quarter_windows(&app, &pat, seed.production).await, 3);

    // Archiving staging would leave production's windows with nothing to follow.
    let (status, body) = set_archived(&app, &pat, seed.staging, true).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("production follows the maintenance plan of staging"),
        "{message}"
    );
    assert_eq!(quarter_windows(&app, &pat, seed.production).await, 3);
    let archived: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT archived_at FROM environments WHERE id = $1")
            .bind(seed.staging)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(archived, None);

    // Production first, then staging.
    let (status, body) = set_archived(&app, &pat, seed.production, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = set_archived(&app, &pat, seed.staging, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Back in the other order: production alone would follow an archived plan.
    let (status, body) = set_archived(&app, &pat, seed.production, false).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("restore staging first"), "{message}");
    let (status, body) = set_archived(&app, &pat, seed.staging, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = set_archived(&app, &pat, seed.production, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(quarter_windows(&app, &pat, seed.production).await, 3);
}

#[tokio::test]
async fn a_blackout_names_a_maintenance_whose_overnight_window_runs_into_it() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    // Staging's window of Tue 12 January runs from 20:00 to 02:00 on Wednesday.
    plan_core(&app, &pat, &seed).await;
    let (announced, _) = announce_minor_update(&app, &pat, &seed).await;
    let planned = plan_minor(&app, &pat, seed.staging, "2027-01-12", "CoreDNS 1.12", None).await;
    let blackouts = format!("/api/v1/platforms/{}/blackouts", seed.core);
    let staging = seed.staging;
    let add = |first: &'static str, last: &'static str, reason: &'static str| {
        let (app, pat, seed) = (&app, pat.clone(), &seed);
        async move {
            let (status, body) = post_blackout(
                app,
                &pat,
                seed,
                json!({"environment_id": staging, "first_day": first, "last_day": last, "reason": reason}),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body
        }
    };
    let conflicts = |body: &Value| -> Vec<String> {
        body["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["maintenance_id"].as_str().unwrap().to_owned())
            .collect()
    };

    // Wednesday alone: both maintenances run into it.
    let wednesday = add("2027-01-13", "2027-01-13", "Office move").await;
    let mut named = conflicts(&wednesday);
    named.sort();
    let mut expected = vec![announced.clone(), planned.clone()];
    expected.sort();
    assert_eq!(named, expected, "{wednesday}");
    assert_eq!(wednesday["conflicts"][0]["window_date"], "2027-01-12");
    // The days before and after the window are not in the way.
    let monday = add("2027-01-11", "2027-01-11", "Team day").await;
    assert_eq!(conflicts(&monday), Vec::<String>::new(), "{monday}");
    let thursday = add("2027-01-14", "2027-01-14", "Audit").await;
    assert_eq!(conflicts(&thursday), Vec::<String>::new(), "{thursday}");
    // The platform's list says the same, and so does announcing one that is named.
    let (_, list) = call(&app, &pat, Method::GET, &blackouts, None, None).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == wednesday["id"])
        .unwrap();
    assert_eq!(listed["conflicts"], wednesday["conflicts"]);
    let (status, body) = call(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/maintenances/{planned}/announce"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Office move"),
        "{body}"
    );
}

#[tokio::test]
async fn calendar_settings_are_changed_only_from_the_version_that_was_read() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let path = format!("/api/v1/platforms/{}/calendar-settings", seed.core);
    let response = super::super::support::same_origin(&app, pat.get(app.url(&path)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let (_, settings) = call(&app, &pat, Method::GET, &path, None, None).await;
    assert_eq!(settings["version"], 1, "{settings}");
    let sixty = json!({"major_notice_days": 60, "reminder_minutes": [10080, 60]});
    let forty = json!({"major_notice_days": 40, "reminder_minutes": [60]});

    let (status, _) = call(&app, &pat, Method::PUT, &path, None, Some(&sixty)).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, body) = call(&app, &pat, Method::PUT, &path, Some("\"1\""), Some(&sixty)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 2, "{body}");
    // Someone who read version 1 too does not overwrite it.
    let (status, body) = call(&app, &pat, Method::PUT, &path, Some("\"1\""), Some(&forty)).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let (_, settings) = call(&app, &pat, Method::GET, &path, None, None).await;
    assert_eq!(settings["major_notice_days"], 60, "{settings}");

    // The plans page's form carries the version it shows; a stale one is refused there too.
    let html = get_text(
        &app,
        &pat,
        &format!("/calendar/plans?platform={}", seed.core),
    )
    .await;
    let form = html
        .split("class=\"settings-form")
        .nth(1)
        .unwrap_or_else(|| panic!("no settings form:\n{html}"));
    assert!(
        form.contains("name=\"version\" value=\"2\""),
        "{}",
        &form[..form.len().min(800)]
    );
    let ui = |version: &str| {
        vec![
            ("platform_id", seed.core.to_string()),
            ("version", version.to_owned()),
            ("major_notice_days", "40".to_owned()),
            ("reminders", "1h".to_owned()),
        ]
    };
    let (status, body) = ui_call(&app, &pat, "save_calendar_settings", ui("1")).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let (status, body) = ui_call(&app, &pat, "save_calendar_settings", ui("2")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, settings) = call(&app, &pat, Method::GET, &path, None, None).await;
    assert_eq!(settings["major_notice_days"], 40, "{settings}");
    assert_eq!(settings["version"], 3, "{settings}");
}

#[tokio::test]
async fn changes_to_a_calendar_take_turns_and_planning_a_maintenance_waits_only_for_them() {
    use std::time::Duration;
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    plan_core(&app, &pat, &seed).await;
    let add_blackout = |first: &'static str| {
        let (app, pat, seed) = (&app, pat.clone(), &seed);
        async move {
            let (status, body) = post_blackout(
                app,
                &pat,
                seed,
                json!({"first_day": first, "last_day": first, "reason": "Team day"}),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    };
    let plan = |title: &'static str| {
        let (app, pat) = (&app, pat.clone());
        async move {
            plan_minor(app, &pat, seed.staging, "2027-01-12", title, None).await;
        }
    };
    // Someone else holds the calendar of platform core: as a change to its windows
    // (exclusive), or as a maintenance being planned (shared). On connections of its own: the
    // server's small pool is for the requests that wait.
    let url = app.state.config.database_url.expose().to_owned();
    let hold = |exclusive: bool| {
        let url = url.clone();
        async move {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
            domain::calendar::plans::lock_calendar(&mut conn, seed.core, exclusive)
                .await
                .unwrap();
            conn
        }
    };
    // Released once `n` requests wait for an advisory lock in this test's database, as
    // PostgreSQL itself reports them: proof that they queued behind the holder.
    let release_when_waiting = |mut conn: sqlx::PgConnection, n: i64| async move {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            if waiting == n {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{waiting} of {n} requests wait for the calendar"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
    };

    // Against a change of the windows, a plan, a blackout and a maintenance all wait their turn.
    let holder = hold(true).await;
    let save_plan = async {
        let (status, body) = put_plan(&app, &pat, seed.staging, 1, &staging_plan()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    };
    tokio::join!(
        release_when_waiting(holder, 3),
        save_plan,
        add_blackout("2027-02-01"),
        plan("CoreDNS 1.12")
    );

    // Against a maintenance being planned, another maintenance goes ahead (it is done while
    // the holder still holds); a blackout waits.
    let holder = hold(false).await;
    tokio::time::timeout(Duration::from_secs(60), plan("Cilium 1.18"))
        .await
        .expect("a maintenance waited for another");
    release_when_waiting(holder, 0).await;
    let holder = hold(false).await;
    tokio::join!(release_when_waiting(holder, 1), add_blackout("2027-02-02"));
}

#[tokio::test]
async fn a_misspelt_field_of_the_recurrence_is_named_not_dropped() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let mut plan = mondays();
    plan["recurrence"] = json!({ "kind": "weekly", "weekday": ["Mon"] });
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &plan).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = field(&body, "recurrence");
    assert!(
        message.contains("unknown field `weekday`") && message.contains("`weekdays`"),
        "{body}"
    );
    // A daily rhythm takes no days at all.
    plan["recurrence"] = json!({ "kind": "daily", "weekdays": ["Mon"] });
    let (status, body) = put_plan(&app, &pat, seed.staging, 0, &plan).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        field(&body, "recurrence").contains("unknown field `weekdays`"),
        "{body}"
    );
}

#[tokio::test]
async fn a_platform_gives_a_major_update_at_least_a_month_of_notice() {
    let (app, seed) = on_monday().await;
    let pat = app.login("pat").await;
    let path = format!("/api/v1/platforms/{}/calendar-settings", seed.core);
    let notice = |days: i64| json!({"major_notice_days": days, "reminder_minutes": [60]});
    for days in [1, 29, 366] {
        let (status, body) = call(
            &app,
            &pat,
            Method::PUT,
            &path,
            Some("\"1\""),
            Some(&notice(days)),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{days}: {body}");
        assert_eq!(super::super::support::fields(&body), ["major_notice_days"]);
        assert!(
            field(&body, "major_notice_days").contains("between 30 and 365 days"),
            "{body}"
        );
    }
    let (status, body) = call(
        &app,
        &pat,
        Method::PUT,
        &path,
        Some("\"1\""),
        Some(&notice(30)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["major_notice_days"], 30, "{body}");
    // The database holds the same floor, whatever writes to it.
    let refused = sqlx::query("UPDATE platforms SET major_notice_days = 29 WHERE id = $1")
        .bind(seed.core)
        .execute(&app.pool)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("platforms_major_notice_days_check"),
        "{refused}"
    );
}
