//! Building blocks shared by the pages: the layout, forms that post to a server function
//! ([`PostForm`], [`ButtonForm`]), form fields with inline errors, alerts.
//!
//! All of it renders on the server only (islands mode: see the crate docs). A form's errors come
//! from two places that fill the same markup: after a plain form post (no JavaScript), from the
//! page's address, read by [`PostForm`] while it renders; after a call from the enhancer
//! ([`crate::enhance`]), from the call's JSON answer, in the browser. The markup is the contract:
//! `.form-error` at the top of the form, and for each field a `.field` wrapper (or table row)
//! that turns `invalid` and holds a `.field-error` placeholder for the field's message.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leptos::context::Provider;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{Me, UiError, whoami};
use crate::enhance::Enhancer;

/// The signed-in person, shared by every page through context.
pub type MeResource = Resource<Result<Option<Me>, UiError>>;

/// The page frame: header with navigation and the signed-in user, then the page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let me: MeResource = Resource::new(|| (), |_| whoami());
    provide_context(me);
    let user = move || {
        Suspend::new(async move {
            match me.await {
                Ok(Some(me)) => view! {
                    <div class="user">
                        <span class="user-name">{me.name}</span>
                        <span class="user-role">{me.role_label}</span>
                        <form method="post" action="/auth/logout" rel="external">
                            <button type="submit" class="link" id="sign-out">"Sign out"</button>
                        </form>
                    </div>
                }
                .into_any(),
                _ => view! { <a href="/auth/login" rel="external" class="button">"Sign in"</a> }
                    .into_any(),
            }
        })
    };
    let audit_link = move || {
        Suspend::new(async move {
            let show = matches!(me.await, Ok(Some(ref m)) if m.reads_audit_log);
            show.then(|| view! { <A href="/audit">"Audit log"</A> })
        })
    };
    let tokens_link = move || {
        Suspend::new(async move {
            let show = matches!(me.await, Ok(Some(ref m)) if m.sees_tokens);
            show.then(|| view! { <A href="/tokens">"API tokens"</A> })
        })
    };
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <A href="/" attr:class="brand">"Demarc"</A>
            <nav aria-label="Main">
                <A href="/" exact=true>"Dashboard"</A>
                <A href="/teams">"Teams"</A>
                <A href="/platforms">"Platforms"</A>
                <A href="/applications">"Applications"</A>
                <A href="/scope">"Scope"</A>
                <A href="/golive">"Go-live"</A>
                <A href="/calendar">"Calendar"</A>
                <Suspense fallback=|| ()>{audit_link}</Suspense>
                <Suspense fallback=|| ()>{tokens_link}</Suspense>
                <a href="/api/docs/" rel="external">"API"</a>
            </nav>
            <Suspense fallback=|| ()>{user}</Suspense>
        </header>
        // The enhancer island turns `data-hydrated` to "true" once the page's wasm runs.
        <main id="main" data-hydrated="false">{children()}</main>
        <Enhancer/>
    }
}

/// The messages per field of the error a plain form post came back with, for the fields of the
/// [`PostForm`] that made the post (context below that form only).
#[derive(Clone, Default)]
struct PostedErrors(BTreeMap<String, String>);

/// The message a plain form post came back with for the field `key` of the enclosing
/// [`PostForm`] (`raci.0.accountable` for the control named `raci[0][accountable]`), if any.
pub fn field_error(key: &str) -> Option<String> {
    use_context::<PostedErrors>().and_then(|errors| errors.0.get(key).cloned())
}

/// The messages for several fields of the enclosing [`PostForm`] (a table row's controls),
/// joined; empty when none has one.
pub fn field_errors_of(keys: impl IntoIterator<Item = String>) -> String {
    keys.into_iter()
        .filter_map(|key| field_error(&key))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The value of `aria-invalid` for a control with or without a message.
fn aria_invalid(invalid: bool) -> &'static str {
    if invalid { "true" } else { "false" }
}

/// The error a failed plain form post to the server function at `url` came back with: server_fn
/// redirects such a post back to its page with `__path` (the function) and `__err` (the error)
/// in the address. An error that names its form (see [`UiError::in_form`]) belongs to that form
/// only.
fn posted_error(url: &str, form: &str) -> Option<UiError> {
    use leptos::server_fn::error::ServerFnUrlError;
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    query.with_untracked(|q| {
        let error = q
            .get_str("__err")
            .filter(|_| q.get_str("__path") == Some(url))?;
        Some(ServerFnUrlError::<UiError>::decode_err(error))
            .filter(|e| e.form.as_deref().is_none_or(|f| f == form))
    })
}

/// The messages per field of `error`, keyed as the form names its fields: without `prefix`.
fn own_fields(error: Option<&UiError>, prefix: &str) -> PostedErrors {
    let fields = error.map(|e| e.error.field_errors()).unwrap_or_default();
    let fields = fields.into_iter().map(|(key, message)| {
        let own = (!prefix.is_empty())
            .then(|| key.strip_prefix(prefix).map(str::to_owned))
            .flatten();
        (own.unwrap_or(key), message)
    });
    PostedErrors(fields.collect())
}

/// A form that posts to a server function (`action`, e.g. `SaveTeam::url()`), rendered on the
/// server. Without scripts the post comes back to the page; when it failed, the form shows the
/// error at its top and gives its fields their messages ([`field_error`], which [`TextField`]
/// and [`TextArea`] read). With the enhancer the form is sent with `fetch` and the enhancer
/// shows the errors in the same places (`.form-error`, `.field.invalid .field-error`).
#[component]
pub fn PostForm(
    /// The server function's address.
    action: &'static str,
    /// The form's class.
    #[prop(optional)]
    class: &'static str,
    /// The form's id.
    #[prop(optional)]
    id: &'static str,
    /// The id of the element the enhancer fills from the call's answer (`data-reveal`).
    #[prop(optional)]
    reveal: &'static str,
    /// Where the domain names this form's fields with a prefix (`items[3].title` for the field
    /// `title` of the fourth item), the prefix: it is taken off before the fields read them.
    #[prop(optional, into)]
    field_prefix: String,
    /// Where a page has several forms posting to `action`, this form's name (an item's key), as
    /// the server function names it in its errors ([`UiError::in_form`]).
    #[prop(optional, into)]
    form_key: String,
    /// The form carries a file (`multipart/form-data`); the enhancer leaves it to the browser.
    #[prop(optional)]
    multipart: bool,
    children: Children,
) -> impl IntoView {
    let error = posted_error(action, &form_key);
    let fields = own_fields(error.as_ref(), &field_prefix);
    let alert = error.map(|e| {
        view! { <p class="alert alert-error form-error" role="alert">{e.to_string()}</p> }
    });
    let some = |value: &'static str| (!value.is_empty()).then_some(value);
    view! {
        <form method="post" action=action class=some(class) id=some(id) data-reveal=some(reveal)
            enctype=multipart.then_some("multipart/form-data")>
            {alert}
            <Provider value=fields>{children()}</Provider>
        </form>
    }
}

/// The frame of a form field: label, control, hint and the message of a failed post.
fn field_frame(
    label: &'static str,
    id: String,
    hint: &'static str,
    error: Option<String>,
    control: impl IntoView,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let invalid = error.is_some();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id>{label}</label>
            {control}
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id>{error}</p>
        </div>
    }
}

/// A text input with its label, hint and inline error.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    #[prop(into, optional)] value: String,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] pattern: &'static str,
    #[prop(optional)] input_type: &'static str,
    /// Keeps ids unique when a page holds several forms with the same fields.
    #[prop(into, optional)]
    prefix: String,
) -> impl IntoView {
    let id = format!("field-{prefix}{name}");
    let error = field_error(name);
    let input_type = if input_type.is_empty() {
        "text"
    } else {
        input_type
    };
    let control = view! {
        <input
            id=id.clone()
            name=name
            type=input_type
            value=value
            required=required
            pattern=(!pattern.is_empty()).then_some(pattern)
            aria-invalid=aria_invalid(error.is_some())
            aria-describedby=format!("{id}-error")
        />
    };
    field_frame(label, id, hint, error, control)
}

/// A multi-line text input with its label and inline error.
#[component]
pub fn TextArea(
    label: &'static str,
    name: &'static str,
    #[prop(into, optional)] value: String,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] required: bool,
    /// Keeps ids unique when a page holds several forms with the same fields.
    #[prop(into, optional)]
    prefix: String,
) -> impl IntoView {
    let id = format!("field-{prefix}{name}");
    let error = field_error(name);
    let control = view! {
        <textarea id=id.clone() name=name rows="3" required=required
            aria-invalid=aria_invalid(error.is_some())
            aria-describedby=format!("{id}-error")>{value}</textarea>
    };
    field_frame(label, id, hint, error, control)
}

/// An error where a page's data should be.
#[component]
pub fn ErrorBox(error: UiError) -> impl IntoView {
    view! { <p class="alert alert-error" role="alert">{error.to_string()}</p> }
}

/// A timestamp in UTC, machine-readable too.
pub fn when(at: DateTime<Utc>) -> impl IntoView {
    let text = at.format("%Y-%m-%d %H:%M UTC").to_string();
    view! { <time datetime=at.to_rfc3339()>{text}</time> }
}

/// The current person's capabilities, or None while loading/anonymous.
pub fn use_me() -> MeResource {
    expect_context::<MeResource>()
}

/// A form of hidden fields and one button that posts to a server function (`action`), as a
/// [`PostForm`]: without scripts the post comes back to the page (with the error when it failed).
#[component]
pub fn ButtonForm(
    /// The server function's address.
    action: &'static str,
    /// Hidden fields: (name, value).
    fields: Vec<(&'static str, String)>,
    /// The button's id.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    /// The button's class (`primary`, `secondary`, `link`).
    #[prop(optional)]
    class: &'static str,
    /// See [`PostForm`]'s `form_key`.
    #[prop(optional, into)]
    form_key: String,
) -> impl IntoView {
    view! {
        <PostForm action=action class="inline-form button-form" form_key=form_key>
            {fields.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value/> }).collect_view()}
            <button type="submit" class=class id=id>{label}</button>
        </PostForm>
    }
}

/// Percent-encodes a query-string value (everything but unreserved characters).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
