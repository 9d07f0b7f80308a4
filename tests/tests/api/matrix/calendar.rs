//! The maintenance calendar's REST operations in the authorization matrix: what each needs, and
//! a fresh thing for every call that changes something (a planned maintenance to announce, a
//! started one to complete, a drill to cancel...), so that one person's call never spoils the
//! next one's.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::calendar::maintenances::{self, Transition};
use domain::calendar::model::*;
use domain::calendar::{Ordinal, Recurrence, drills, events, plans};
use domain::db::Caller;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Ctx, Rule};

/// Calendar things the read routes look at, made once.
pub(super) struct Fixtures {
    /// A staging window far enough ahead for a minor update.
    window: NaiveDate,
    /// A staging window far enough ahead for a major update (30 days' notice).
    major_window: NaiveDate,
    /// The secret file name of staging's feed (`<token>.ics`): no other call rotates it.
    pub(super) feed_file: String,
}

fn staging_plan() -> PlanForm {
    PlanForm {
        recurrence: Some(Recurrence::MonthlyWeekday {
            ordinal: Ordinal::Second,
            weekday: chrono::Weekday::Tue,
        }),
        follows_environment_id: None,
        soak_working_days: None,
        start_time: "20:00".into(),
        time_zone: "Europe/Amsterdam".into(),
        duration_hours: 6,
        blackout_policy: Default::default(),
        allowed_categories: vec![Category::SecurityPatch, Category::Minor, Category::Major],
        base_version: 0,
    }
}

/// Plans for core's staging (second Tuesday) and production (five working days later), and
/// staging's feed.
pub(super) async fn setup(app: &tests::TestApp, seed: &tests::Seed) -> Fixtures {
    let system = Caller::system();
    let now = Utc::now();
    plans::save_plan(&app.pool, &system, seed.staging, staging_plan(), now)
        .await
        .unwrap();
    let production = PlanForm {
        recurrence: None,
        follows_environment_id: Some(seed.staging),
        soak_working_days: Some(5),
        start_time: "22:00".into(),
        ..staging_plan()
    };
    plans::save_plan(&app.pool, &system, seed.production, production, now)
        .await
        .unwrap();
    let windows = plans::schedule(
        &app.pool,
        &system,
        seed.staging,
        now,
        now + Duration::days(200),
    )
    .await
    .unwrap()
    .windows;
    let after = |at: DateTime<Utc>| {
        windows
            .iter()
            .find(|w| w.starts_at > at)
            .map(|w| w.local_date)
            .expect("a staging window")
    };
    let feed = events::make_feed(
        &app.pool,
        &system,
        FeedForm {
            scope: FeedScope::Environment,
            scope_id: seed.staging,
        },
        now,
    )
    .await
    .unwrap();
    Fixtures {
        window: after(now + Duration::days(2)),
        major_window: after(now + Duration::days(32)),
        feed_file: feed.path.trim_start_matches("/ics/").to_owned(),
    }
}

/// Every calendar REST operation and what it needs.
pub(super) const REST: &[(&str, &str, Rule)] = &[
    (
        "GET",
        "/api/v1/platforms/{id}/maintenance-plans",
        Rule::Read,
    ),
    (
        "GET",
        "/api/v1/environments/{id}/maintenance-plan",
        Rule::Read,
    ),
    (
        "PUT",
        "/api/v1/environments/{id}/maintenance-plan",
        Rule::ManageCalendar,
    ),
    (
        "DELETE",
        "/api/v1/environments/{id}/maintenance-plan",
        Rule::ManageCalendar,
    ),
    ("GET", "/api/v1/environments/{id}/schedule", Rule::Read),
    ("GET", "/api/v1/platforms/{id}/blackouts", Rule::Read),
    (
        "POST",
        "/api/v1/platforms/{id}/blackouts",
        Rule::ManageCalendar,
    ),
    ("DELETE", "/api/v1/blackouts/{id}", Rule::ManageCalendar),
    ("GET", "/api/v1/holidays", Rule::Read),
    (
        "GET",
        "/api/v1/platforms/{id}/calendar-settings",
        Rule::Read,
    ),
    (
        "PUT",
        "/api/v1/platforms/{id}/calendar-settings",
        Rule::ManageCalendar,
    ),
    ("GET", "/api/v1/maintenances", Rule::Read),
    ("GET", "/api/v1/maintenances/export.csv", Rule::Read),
    ("GET", "/api/v1/drills/export.csv", Rule::Read),
    ("POST", "/api/v1/maintenances", Rule::ManageCalendar),
    ("GET", "/api/v1/maintenances/{id}", Rule::Read),
    ("PUT", "/api/v1/maintenances/{id}", Rule::ManageCalendar),
    (
        "POST",
        "/api/v1/maintenances/{id}/announce",
        Rule::ManageCalendar,
    ),
    (
        "POST",
        "/api/v1/maintenances/{id}/start",
        Rule::ManageCalendar,
    ),
    (
        "POST",
        "/api/v1/maintenances/{id}/complete",
        Rule::ManageCalendar,
    ),
    (
        "POST",
        "/api/v1/maintenances/{id}/roll-back",
        Rule::ManageCalendar,
    ),
    (
        "POST",
        "/api/v1/maintenances/{id}/cancel",
        Rule::ManageCalendar,
    ),
    (
        "PUT",
        "/api/v1/maintenances/{id}/retrospective",
        Rule::ManageCalendar,
    ),
    (
        "GET",
        "/api/v1/maintenances/{id}/acknowledgements",
        Rule::Read,
    ),
    (
        "POST",
        "/api/v1/maintenances/{id}/acknowledgements",
        Rule::AcknowledgePayments,
    ),
    ("GET", "/api/v1/action-items", Rule::Read),
    (
        "POST",
        "/api/v1/action-items/{id}/done",
        Rule::ManageCalendar,
    ),
    ("GET", "/api/v1/drills", Rule::Read),
    ("POST", "/api/v1/drills", Rule::ManageCalendar),
    ("GET", "/api/v1/drills/{id}", Rule::Read),
    ("PUT", "/api/v1/drills/{id}", Rule::ManageCalendar),
    ("POST", "/api/v1/drills/{id}/result", Rule::ManageCalendar),
    ("POST", "/api/v1/drills/{id}/cancel", Rule::ManageCalendar),
    ("GET", "/api/v1/calendar/events", Rule::Read),
    ("GET", "/api/v1/kubernetes/end-of-life", Rule::Read),
    ("GET", "/api/v1/calendar-feeds", Rule::Read),
    ("POST", "/api/v1/calendar-feeds", Rule::ManageCalendar),
    // Team payments' feed: its members and platform staff.
    (
        "DELETE",
        "/api/v1/calendar-feeds/{id}",
        Rule::CalendarPayments,
    ),
    ("GET", "/api/v1/teams/{id}/emails", Rule::Read),
    ("POST", "/api/v1/teams/{id}/emails", Rule::CalendarPayments),
    ("DELETE", "/api/v1/team-emails/{id}", Rule::CalendarPayments),
];

/// POSTs that change something that exists answer 200, not 201.
pub(super) fn post_answers_ok(template: &str) -> bool {
    (template.starts_with("/api/v1/maintenances/{id}/")
        || template.starts_with("/api/v1/drills/{id}/")
        || template.starts_with("/api/v1/action-items/"))
        && template != "/api/v1/maintenances/{id}/retrospective"
}

impl Ctx<'_> {
    /// A form for a maintenance of `category` on staging: in the fixture's window, or for an
    /// emergency from now on (the only kind this matrix, on the real clock, can start: any other
    /// waits for its window).
    pub(super) fn maintenance_form(&self, category: Category) -> MaintenanceForm {
        if category == Category::Emergency {
            let start = Utc::now();
            return MaintenanceForm {
                environment_id: self.seed.staging,
                category: category.as_str().into(),
                title: self.unique("Matrix emergency"),
                starts_at: Some(start),
                ends_at: Some(start + Duration::hours(2)),
                lead: "Pat".into(),
                justification: "Matrix".into(),
                contingency_plan: "Matrix rollback".into(),
                ..Default::default()
            };
        }
        MaintenanceForm {
            environment_id: self.seed.staging,
            category: category.as_str().into(),
            title: self.unique("Matrix maintenance"),
            window_date: Some(if category == Category::Major {
                self.calendar.major_window
            } else {
                self.calendar.window
            }),
            description: "Matrix change".into(),
            contingency_plan: "Matrix rollback".into(),
            lead: "Pat".into(),
            ..Default::default()
        }
    }

    /// A fresh planned maintenance, moved through `steps`.
    pub(super) async fn maintenance(
        &self,
        category: Category,
        steps: &[Transition],
    ) -> Maintenance {
        let system = Caller::system();
        let now = Utc::now();
        let mut m = maintenances::create(
            &self.app.pool,
            &system,
            self.maintenance_form(category),
            now,
        )
        .await
        .unwrap()
        .maintenance;
        for step in steps {
            m = maintenances::transition(&self.app.pool, &system, m.id, *step, "", now)
                .await
                .unwrap()
                .maintenance;
        }
        m
    }

    /// A fresh open action item of a completed maintenance.
    pub(super) async fn action_item(&self) -> Uuid {
        let m = self
            .maintenance(
                Category::Emergency,
                &[Transition::Start, Transition::Complete],
            )
            .await;
        let form = RetrospectiveForm {
            went_well: "Matrix".into(),
            to_improve: String::new(),
            action_items: vec![ActionItemInput {
                title: self.unique("Matrix item"),
                owner: "Pat".into(),
                due_on: Utc::now().date_naive(),
            }],
        };
        maintenances::write_retrospective(
            &self.app.pool,
            &Caller::system(),
            m.id,
            m.version,
            form,
            Utc::now(),
        )
        .await
        .unwrap()
        .retrospective
        .unwrap()
        .action_items[0]
            .id
    }

    fn drill_form(&self) -> DrillForm {
        let start = Utc::now() - Duration::hours(3);
        DrillForm {
            platform_id: self.seed.core,
            application_id: None,
            title: self.unique("Matrix drill"),
            goal: "Measure the restore time".into(),
            scenario: "The database volume is lost".into(),
            leader: "Pat".into(),
            starts_at: start,
            ends_at: start + Duration::hours(2),
            target_rpo_minutes: 1440,
            target_rto_minutes: 240,
            target_retention_days: 7,
            ..Default::default()
        }
    }

    pub(super) async fn drill(&self) -> Uuid {
        drills::create(&self.app.pool, &Caller::system(), self.drill_form())
            .await
            .unwrap()
            .id
    }

    /// A fresh environment of core with a plan of its own, to remove.
    pub(super) async fn planned_environment(&self) -> Uuid {
        let system = Caller::system();
        let env = domain::environments::create(
            &self.app.pool,
            &system,
            self.seed.core,
            domain::model::EnvironmentInput {
                slug: self.unique("plan-env"),
                name: "Matrix plan".into(),
                position: 50,
                is_production: false,
            },
        )
        .await
        .unwrap();
        plans::save_plan(&self.app.pool, &system, env.id, staging_plan(), Utc::now())
            .await
            .unwrap();
        env.id
    }

    pub(super) async fn plan_version(&self, environment: Uuid) -> String {
        sqlx::query_scalar::<_, i32>(
            "SELECT version FROM maintenance_plans WHERE environment_id = $1",
        )
        .bind(environment)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
        .to_string()
    }

    /// The version (ETag) of a platform's calendar settings.
    pub(super) async fn settings_version(&self, platform: Uuid) -> String {
        sqlx::query_scalar::<_, i32>(
            "SELECT calendar_settings_version FROM platforms WHERE id = $1",
        )
        .bind(platform)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
        .to_string()
    }

    /// A fresh blackout in 2040, far beyond every skew check.
    pub(super) async fn blackout(&self) -> Uuid {
        plans::add_blackout(
            &self.app.pool,
            &Caller::system(),
            self.seed.core,
            BlackoutForm {
                environment_id: None,
                first_day: NaiveDate::from_ymd_opt(2040, 1, 1).unwrap(),
                last_day: NaiveDate::from_ymd_opt(2040, 1, 2).unwrap(),
                reason: self.unique("Matrix freeze"),
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .blackout
        .id
    }

    pub(super) async fn team_feed(&self) -> Uuid {
        events::make_feed(
            &self.app.pool,
            &Caller::system(),
            FeedForm {
                scope: FeedScope::Team,
                scope_id: self.seed.payments,
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .feed
        .id
    }

    pub(super) async fn payments_email(&self) -> Uuid {
        domain::calendar::notices::add_team_email(
            &self.app.pool,
            &Caller::system(),
            &self.app.state.secrets,
            self.seed.payments,
            TeamEmailForm {
                address: format!("{}@example.com", self.unique("matrix")),
            },
        )
        .await
        .unwrap()
        .id
    }
}

/// The concrete path, body and If-Match of one call of a calendar REST operation.
pub(super) async fn rest_call(
    ctx: &Ctx<'_>,
    method: &str,
    template: &str,
) -> Option<(String, Option<Value>, Option<String>)> {
    let s = &ctx.seed;
    let m = |id: Uuid, rest: &str| format!("/api/v1/maintenances/{id}{rest}");
    let call = match (method, template) {
        ("GET", "/api/v1/platforms/{id}/maintenance-plans")
        | ("GET", "/api/v1/platforms/{id}/blackouts")
        | ("GET", "/api/v1/platforms/{id}/calendar-settings") => {
            (template.replace("{id}", &s.core.to_string()), None, None)
        }
        ("GET", "/api/v1/environments/{id}/maintenance-plan")
        | ("GET", "/api/v1/environments/{id}/schedule") => {
            (template.replace("{id}", &s.staging.to_string()), None, None)
        }
        ("PUT", "/api/v1/environments/{id}/maintenance-plan") => (
            template.replace("{id}", &s.staging.to_string()),
            Some(serde_json::to_value(staging_plan()).unwrap()),
            Some(ctx.plan_version(s.staging).await),
        ),
        ("DELETE", "/api/v1/environments/{id}/maintenance-plan") => (
            template.replace("{id}", &ctx.planned_environment().await.to_string()),
            None,
            None,
        ),
        ("POST", "/api/v1/platforms/{id}/blackouts") => (
            template.replace("{id}", &s.core.to_string()),
            Some(
                json!({"first_day": "2041-12-24", "last_day": "2041-12-26", "reason": ctx.unique("Holidays")}),
            ),
            None,
        ),
        ("DELETE", "/api/v1/blackouts/{id}") => (
            format!("/api/v1/blackouts/{}", ctx.blackout().await),
            None,
            None,
        ),
        ("GET", "/api/v1/holidays") => ("/api/v1/holidays?country=DE&year=2027".into(), None, None),
        ("PUT", "/api/v1/platforms/{id}/calendar-settings") => (
            template.replace("{id}", &s.core.to_string()),
            Some(json!({"major_notice_days": 30, "reminder_minutes": [10080, 4320, 60]})),
            Some(ctx.settings_version(s.core).await),
        ),
        ("GET", "/api/v1/maintenances" | "/api/v1/action-items" | "/api/v1/drills")
        | ("GET", "/api/v1/maintenances/export.csv" | "/api/v1/drills/export.csv")
        | ("GET", "/api/v1/calendar/events" | "/api/v1/kubernetes/end-of-life")
        | ("GET", "/api/v1/calendar-feeds") => (template.to_owned(), None, None),
        ("POST", "/api/v1/maintenances") => (
            template.to_owned(),
            Some(serde_json::to_value(ctx.maintenance_form(Category::Minor)).unwrap()),
            None,
        ),
        ("GET", "/api/v1/maintenances/{id}")
        | ("GET", "/api/v1/maintenances/{id}/acknowledgements") => {
            let id = ctx.maintenance(Category::Minor, &[]).await.id;
            (template.replace("{id}", &id.to_string()), None, None)
        }
        ("PUT", "/api/v1/maintenances/{id}") => {
            let mt = ctx.maintenance(Category::Minor, &[]).await;
            (
                m(mt.id, ""),
                Some(serde_json::to_value(ctx.maintenance_form(Category::Minor)).unwrap()),
                Some(mt.version.to_string()),
            )
        }
        ("POST", "/api/v1/maintenances/{id}/announce") => {
            let id = ctx.maintenance(Category::Minor, &[]).await.id;
            (template.replace("{id}", &id.to_string()), None, None)
        }
        ("POST", "/api/v1/maintenances/{id}/start") => {
            let id = ctx.maintenance(Category::Emergency, &[]).await.id;
            (template.replace("{id}", &id.to_string()), None, None)
        }
        ("POST", "/api/v1/maintenances/{id}/complete" | "/api/v1/maintenances/{id}/roll-back") => {
            let id = ctx
                .maintenance(Category::Emergency, &[Transition::Start])
                .await
                .id;
            (template.replace("{id}", &id.to_string()), None, None)
        }
        ("POST", "/api/v1/maintenances/{id}/cancel") => (
            m(ctx.maintenance(Category::Minor, &[]).await.id, "/cancel"),
            Some(json!({"reason": "Matrix"})),
            None,
        ),
        ("PUT", "/api/v1/maintenances/{id}/retrospective") => {
            let ended = ctx
                .maintenance(
                    Category::Emergency,
                    &[Transition::Start, Transition::Complete],
                )
                .await;
            (
                m(ended.id, "/retrospective"),
                Some(json!({"went_well": "Matrix", "to_improve": ""})),
                Some(ended.version.to_string()),
            )
        }
        ("POST", "/api/v1/maintenances/{id}/acknowledgements") => {
            let id = ctx
                .maintenance(Category::Major, &[Transition::Announce])
                .await
                .id;
            (
                m(id, "/acknowledgements"),
                Some(json!({"team_id": s.payments})),
                None,
            )
        }
        ("POST", "/api/v1/action-items/{id}/done") => (
            format!("/api/v1/action-items/{}/done", ctx.action_item().await),
            None,
            None,
        ),
        ("POST", "/api/v1/drills") => (
            template.to_owned(),
            Some(serde_json::to_value(ctx.drill_form()).unwrap()),
            None,
        ),
        ("GET", "/api/v1/drills/{id}") => {
            (format!("/api/v1/drills/{}", ctx.drill().await), None, None)
        }
        ("POST", "/api/v1/drills/{id}/result") => (
            format!("/api/v1/drills/{}/result", ctx.drill().await),
            Some(
                json!({"measured_rpo_minutes": 60, "measured_rto_minutes": 90, "went_well": "Matrix", "to_improve": ""}),
            ),
            None,
        ),
        ("PUT", "/api/v1/drills/{id}") => (
            format!("/api/v1/drills/{}", ctx.drill().await),
            Some(serde_json::to_value(ctx.drill_form()).unwrap()),
            Some("1".to_owned()),
        ),
        ("POST", "/api/v1/drills/{id}/cancel") => (
            format!("/api/v1/drills/{}/cancel", ctx.drill().await),
            Some(json!({"reason": "Matrix"})),
            None,
        ),
        ("POST", "/api/v1/calendar-feeds") => (
            template.to_owned(),
            Some(json!({"scope": "environment", "scope_id": s.production})),
            None,
        ),
        ("DELETE", "/api/v1/calendar-feeds/{id}") => (
            format!("/api/v1/calendar-feeds/{}", ctx.team_feed().await),
            None,
            None,
        ),
        ("GET", "/api/v1/teams/{id}/emails") => (
            template.replace("{id}", &s.payments.to_string()),
            None,
            None,
        ),
        ("POST", "/api/v1/teams/{id}/emails") => (
            template.replace("{id}", &s.payments.to_string()),
            Some(json!({"address": format!("{}@example.com", ctx.unique("oncall"))})),
            None,
        ),
        ("DELETE", "/api/v1/team-emails/{id}") => (
            format!("/api/v1/team-emails/{}", ctx.payments_email().await),
            None,
            None,
        ),
        _ => return None,
    };
    Some(call)
}
