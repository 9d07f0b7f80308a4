//! Browser forms that a server function cannot take: an attestation with its evidence file
//! (multipart). It answers like a server function posted without scripts: back to the review
//! page, and when refused with the error in the address, where the item's form shows it.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::db::Caller;
use domain::golive::model::AttestInput;
use domain::golive::store::{self, NewFile};
use leptos::server_fn::error::ServerFnUrlError;
use uuid::Uuid;

use app::api::UiError;

use crate::state::AppState;

/// The form's address, as the review page's form names it in `action`.
pub const ATTEST_WITH_FILE: &str = "/golive/evidence";

/// What the form sent.
#[derive(Default)]
struct Posted {
    review_id: String,
    key: String,
    version: String,
    note: String,
    link: String,
    file_name: String,
    content_type: String,
    data: Vec<u8>,
}

/// POST /golive/evidence (multipart): a manual item passed, with a file as its evidence.
/// Anonymous people are sent to sign in and read-only callers (auditors, people without access)
/// are refused before the body is read; every other refusal goes back to the review page.
pub async fn attest_with_file(State(state): State<AppState>, req: Request) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return Redirect::to("/auth/login?next=%2Fgolive").into_response();
    };
    if !caller.actor.has_access() || caller.actor.is_read_only() {
        let refused =
            domain::Error::forbidden("Your role reads go-live reviews but does not change them.");
        return (StatusCode::FORBIDDEN, refused.to_string()).into_response();
    }
    let posted = match Multipart::from_request(req, &state).await {
        Ok(multipart) => read(multipart).await,
        Err(rejection) => Err(domain::Error::invalid(
            "file",
            format!("The upload could not be read: {}", rejection.body_text()),
        )),
    };
    let posted = match posted {
        Ok(posted) => posted,
        Err(error) => return back(&state, None, "", error),
    };
    let Ok(review_id) = posted.review_id.trim().parse::<Uuid>() else {
        return back(
            &state,
            None,
            &posted.key,
            domain::Error::invalid("review_id", "Not a review."),
        );
    };
    let Ok(version) = posted.version.trim().parse::<i32>() else {
        return back(
            &state,
            Some(review_id),
            &posted.key,
            domain::Error::invalid("version", "Reload the page and try again."),
        );
    };
    let input = AttestInput {
        status: "passed".into(),
        note: posted.note,
        link: posted.link,
        file_id: None,
        version,
    };
    let file = NewFile {
        name: &posted.file_name,
        content_type: &posted.content_type,
        data: &posted.data,
    };
    let now = state.clock.now();
    match store::attest_with_file(
        &state.pool,
        &caller,
        review_id,
        &posted.key,
        input,
        file,
        now,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/golive/reviews/{review_id}#item-{}", posted.key))
            .into_response(),
        Err(error) => back(&state, Some(review_id), &posted.key, error),
    }
}

/// Reads the form's fields; a part it does not know is refused rather than ignored.
async fn read(mut multipart: Multipart) -> Result<Posted, domain::Error> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        domain::Error::invalid(
            "file",
            format!("The upload could not be read: {}", e.body_text()),
        )
    };
    let mut posted = Posted::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            posted.file_name = field.file_name().unwrap_or_default().to_owned();
            posted.content_type = field.content_type().unwrap_or_default().to_owned();
            posted.data = field.bytes().await.map_err(unreadable)?.to_vec();
            continue;
        }
        let text = field.text().await.map_err(unreadable)?;
        match name.as_str() {
            "review_id" => posted.review_id = text,
            "key" => posted.key = text,
            "version" => posted.version = text,
            "note" => posted.note = text,
            "link" => posted.link = text,
            other => {
                return Err(domain::Error::invalid(
                    "form",
                    format!("unexpected field `{other}`"),
                ));
            }
        }
    }
    Ok(posted)
}

/// Back to the review (or home) with the refusal, for the item's form only.
fn back(state: &AppState, review_id: Option<Uuid>, key: &str, error: domain::Error) -> Response {
    let page = match review_id {
        Some(id) => state.config.url(&format!("/golive/reviews/{id}")),
        None => state.config.url("/golive"),
    };
    let error = UiError::from(error).in_form(key);
    let target = ServerFnUrlError::new(ATTEST_WITH_FILE, error)
        .to_url(page.as_str())
        .map(|mut url| {
            if !key.is_empty() {
                url.set_fragment(Some(&format!("item-{key}")));
            }
            // Relative, so the browser stays on the host it used.
            match url.query() {
                Some(q) => format!(
                    "{}?{q}{}",
                    url.path(),
                    url.fragment().map(|f| format!("#{f}")).unwrap_or_default()
                ),
                None => url.path().to_owned(),
            }
        })
        .unwrap_or_else(|_| "/golive".into());
    Redirect::to(&target).into_response()
}
