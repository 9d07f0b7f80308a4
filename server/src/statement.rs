//! The printable scope statement: one platform's published scope (current, a revision, or as of
//! a date) on one page that an auditor saves as PDF from the browser. Rendered here with askama,
//! not by the Leptos app, so it needs no JavaScript and prints the same everywhere.
//!
//! `GET /platforms/{id}/scope/statement?revision=N&as_of=YYYY-MM-DD` sits behind the same session
//! resolution and page guard as the app's pages (see `lib.rs`).

use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Timelike, Utc};
use domain::db::Caller;
use domain::scope::{Party, ScopeQuery, ScopeView, raci_letters, store};
use uuid::Uuid;

use crate::state::AppState;

/// One item inside the fence.
struct InsideRow {
    name: String,
    category: String,
    responsible: String,
    notes: String,
}

/// One item outside the fence.
struct OutsideRow {
    name: String,
    category: String,
    owner: String,
    escalation: String,
}

/// One activity of the RACI matrix: the letters per party, in the order of the columns.
struct RaciLine {
    item: String,
    activity: String,
    cells: Vec<String>,
}

struct RuleRow {
    title: String,
    description: String,
    reason: String,
    exception_process: String,
}

struct AckRow {
    team: String,
    applications: i64,
    revision: String,
    when: String,
    by: String,
    up_to_date: bool,
}

#[derive(Template)]
#[template(path = "statement.html")]
struct Statement {
    platform_name: String,
    platform_href: String,
    /// "Revision 3" or "No published revision".
    heading: String,
    /// What is shown and why: the revision in force at a date, a revision asked for...
    context: String,
    published: Option<String>,
    summary: Option<String>,
    /// Set when nothing was published (by the date asked for).
    empty_message: Option<String>,
    /// Set when a newer revision than the one shown exists.
    newer_notice: Option<String>,
    generated_at: String,
    inside: Vec<InsideRow>,
    outside: Vec<OutsideRow>,
    parties: Vec<String>,
    raci: Vec<RaciLine>,
    rules: Vec<RuleRow>,
    acks: Vec<AckRow>,
    ack_note: String,
    json_href: String,
    csv_href: String,
}

#[derive(Template)]
#[template(path = "statement_error.html")]
struct StatementError<'a> {
    title: &'a str,
    message: &'a str,
    fields: Vec<(String, String)>,
    back_href: String,
}

fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A date given as a day means the end of that day: show the day only.
fn as_of_text(t: &DateTime<Utc>) -> String {
    if t.hour() == 23 && t.minute() == 59 && t.second() == 59 {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

fn error_page(status: StatusCode, title: &str, error: &domain::Error, back: String) -> Response {
    let message = match error {
        domain::Error::Invalid { .. } => {
            "The address asks for something the statement cannot show. Correct the field below."
                .to_owned()
        }
        other => other.to_string(),
    };
    let page = StatementError {
        title,
        message: &message,
        fields: error.field_errors().into_iter().collect(),
        back_href: back,
    };
    let html = page.render().unwrap_or_else(|_| message.clone());
    (status, Html(html)).into_response()
}

/// Reads `revision` and `as_of` from the query string. Unknown parameters are ignored; a
/// revision that is not a number is refused by name.
fn parse_query(raw: Option<&str>) -> Result<ScopeQuery, domain::Error> {
    let mut query = ScopeQuery::default();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let value = value.trim();
        match key.as_ref() {
            "revision" if !value.is_empty() => {
                let n: i32 = value.parse().map_err(|_| {
                    domain::Error::invalid(
                        "revision",
                        "must be a published revision number such as 3",
                    )
                })?;
                if n < 1 {
                    return Err(domain::Error::invalid(
                        "revision",
                        "must be a published revision number such as 3",
                    ));
                }
                query.revision = Some(n);
            }
            "as_of" if !value.is_empty() => {
                // Checked here so the answer names the field even before the database is asked.
                domain::scope::parse_as_of(value)?;
                query.as_of = Some(value.to_owned());
            }
            _ => {}
        }
    }
    Ok(query)
}

/// The query string of the JSON and CSV exports for the same selection.
fn export_query(query: &ScopeQuery) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    if let Some(n) = query.revision {
        out.append_pair("revision", &n.to_string());
    }
    if let Some(a) = &query.as_of {
        out.append_pair("as_of", a);
    }
    let text = out.finish();
    if text.is_empty() {
        text
    } else {
        format!("?{text}")
    }
}

/// GET /platforms/{id}/scope/statement
pub async fn statement(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "No such platform",
            &domain::Error::invalid("id", "is not a platform id (a UUID)"),
            "/platforms".to_owned(),
        );
    };
    let back = format!("/platforms/{id}");
    let query = match parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(e) => {
            return error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Cannot show this statement",
                &e,
                back,
            );
        }
    };
    let view = match store::view(&state.pool, &caller, id, &query).await {
        Ok(v) => v,
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let title = match &e {
                domain::Error::NotFound { .. } => "Not found",
                domain::Error::Forbidden { .. } => "Not for your role",
                _ => "Cannot show this statement",
            };
            let back = if matches!(e, domain::Error::NotFound { .. }) && query.revision.is_none() {
                "/platforms".to_owned()
            } else {
                back
            };
            return error_page(status, title, &e, back);
        }
    };
    let acks = match store::acknowledgements(&state.pool, &caller, id).await {
        Ok(a) => a,
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error_page(status, "Cannot show this statement", &e, back);
        }
    };
    let page = build(&view, &query, acks, Utc::now());
    match page.render() {
        Ok(html) => (StatusCode::OK, Html(html)).into_response(),
        Err(e) => {
            let error = domain::error::internal(&e);
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cannot show this statement",
                &error,
                back,
            )
        }
    }
}

fn build(
    view: &ScopeView,
    query: &ScopeQuery,
    acks: Vec<domain::scope::AckStatus>,
    now: DateTime<Utc>,
) -> Statement {
    let content = &view.content;
    let (heading, published, summary) = match &view.revision {
        Some(r) => (
            format!("Revision {}", r.number),
            Some(format!(
                "Published {} by {}",
                when(&r.published_at),
                r.published_by
            )),
            Some(r.summary.clone()),
        ),
        None => ("No published revision".to_owned(), None, None),
    };
    let context = match (&view.revision, &view.as_of) {
        (Some(r), Some(at)) if query.revision.is_none() => format!(
            "The scope as of {}: revision {} was in force then.",
            as_of_text(at),
            r.number
        ),
        (Some(r), _) if query.revision.is_some() => {
            format!("Revision {} as it was published.", r.number)
        }
        (Some(r), _) => format!("The current scope: revision {}.", r.number),
        (None, Some(at)) => format!("The scope as of {}.", as_of_text(at)),
        (None, None) => "The current scope.".to_owned(),
    };
    let empty_message = match (&view.revision, &view.as_of) {
        (Some(_), _) => None,
        (None, Some(at)) => Some(match view.latest_revision {
            Some(n) => format!(
                "Nothing had been published for this platform by {}. The first revision came \
                 later; the newest is revision {n}.",
                as_of_text(at)
            ),
            None => format!(
                "Nothing had been published for this platform by {}.",
                as_of_text(at)
            ),
        }),
        (None, None) => Some(
            "Nothing has been published for this platform yet: there is no scope to state."
                .to_owned(),
        ),
    };
    let newer_notice = match (&view.revision, view.latest_revision) {
        (Some(r), Some(latest)) if latest > r.number => Some(format!(
            "This is not the current scope: revision {latest} was published since."
        )),
        _ => None,
    };
    let inside = content
        .inside()
        .map(|i| InsideRow {
            name: i.name.clone(),
            category: i.category.clone(),
            responsible: i.responsible.label(),
            notes: i.notes.clone(),
        })
        .collect();
    let outside = content
        .outside()
        .map(|i| OutsideRow {
            name: i.name.clone(),
            category: i.category.clone(),
            owner: i.responsible.label(),
            escalation: i.escalation_contact.clone(),
        })
        .collect();
    let columns = content.raci_parties();
    let raci = content
        .items
        .iter()
        .flat_map(|item| {
            let columns = &columns;
            item.raci.iter().map(move |row| RaciLine {
                item: item.name.clone(),
                activity: row.activity.clone(),
                cells: columns.iter().map(|p| raci_letters(row, p)).collect(),
            })
        })
        .collect();
    let rules = content
        .rules
        .iter()
        .map(|r| RuleRow {
            title: r.title.clone(),
            description: r.description.clone(),
            reason: r.reason.clone(),
            exception_process: r.exception_process.clone(),
        })
        .collect();
    let ack_note = match view.latest_revision {
        Some(n) => format!(
            "Which revision each application team on this platform acknowledged, as of now \
             (the current revision is {n})."
        ),
        None => "Nothing has been published, so there is nothing to acknowledge yet.".to_owned(),
    };
    let acks = acks
        .into_iter()
        .map(|a| AckRow {
            team: a.team_name,
            applications: a.applications,
            revision: a
                .acknowledged_revision
                .map(|n| n.to_string())
                .unwrap_or_else(|| "none".to_owned()),
            when: a.acknowledged_at.as_ref().map(when).unwrap_or_default(),
            by: a.acknowledged_by.unwrap_or_default(),
            up_to_date: a.up_to_date,
        })
        .collect();
    let api = format!("/api/v1/platforms/{}/scope", view.platform_id);
    let selection = export_query(query);
    Statement {
        platform_name: view.platform_name.clone(),
        platform_href: format!("/platforms/{}", view.platform_id),
        heading,
        context,
        published,
        summary,
        empty_message,
        newer_notice,
        generated_at: now.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        inside,
        outside,
        parties: columns.iter().map(Party::label).collect(),
        raci,
        rules,
        acks,
        ack_note,
        json_href: format!("{api}{selection}"),
        csv_href: format!("{api}/export.csv{selection}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_a_bad_field() {
        let err = parse_query(Some("as_of=yesterday")).unwrap_err();
        assert!(err.field_errors().contains_key("as_of"));
        let err = parse_query(Some("revision=abc")).unwrap_err();
        assert!(err.field_errors().contains_key("revision"));
        let err = parse_query(Some("revision=0")).unwrap_err();
        assert!(err.field_errors().contains_key("revision"));
        let q = parse_query(Some("revision=2&as_of=2026-03-31&other=x")).unwrap();
        assert_eq!(q.revision, Some(2));
        assert_eq!(q.as_of.as_deref(), Some("2026-03-31"));
        assert_eq!(parse_query(None).unwrap(), ScopeQuery::default());
    }

    #[test]
    fn the_statement_renders_the_fence_the_matrix_and_the_rules() {
        let published = Utc::now();
        let view = ScopeView {
            platform_id: Uuid::nil(),
            platform_slug: "core".into(),
            platform_name: "Core <Kubernetes>".into(),
            revision: Some(domain::scope::ScopeRevisionMeta {
                number: 2,
                summary: "Second".into(),
                published_at: published,
                published_by: "Pat Platform".into(),
            }),
            latest_revision: Some(3),
            draft: None,
            as_of: Some(published),
            content: domain::scope::builtin_template(),
        };
        let query = ScopeQuery {
            revision: None,
            as_of: Some("2026-03-31".into()),
        };
        let html = build(&view, &query, vec![], published).render().unwrap();
        assert!(
            html.contains("Scope statement: Core &#60;Kubernetes&#62;"),
            "names are escaped"
        );
        assert!(html.contains("Revision 2"));
        assert!(html.contains("revision 3 was published since"));
        assert!(html.contains("Kubernetes clusters"));
        assert!(html.contains("<td class=\"cell\">R/A</td>"), "RACI letters");
        assert!(html.contains("/export.csv?as_of=2026-03-31"));
    }

    #[test]
    fn exports_keep_the_selection() {
        let q = ScopeQuery {
            revision: None,
            as_of: Some("2026-03-31T12:00:00+02:00".into()),
        };
        assert_eq!(export_query(&q), "?as_of=2026-03-31T12%3A00%3A00%2B02%3A00");
        assert_eq!(export_query(&ScopeQuery::default()), "");
    }
}
