//! Building blocks shared by the pages: the layout, form fields with inline errors, alerts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::client::Client;
use leptos::server_fn::codec::PostUrl;
use leptos::server_fn::request::ClientReq;
use leptos::server_fn::{Http, ServerFn};
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

/// The last error of an action (`action.value()`), if its last run failed.
pub fn last_error<T: Clone + Send + Sync + 'static>(
    value: MappedSignal<Option<Result<T, UiError>>>,
) -> Signal<Option<UiError>> {
    Signal::derive(move || match value.get() {
        Some(Err(e)) => Some(e),
        _ => None,
    })
}

/// The per-field messages of an error.
pub fn field_errors(error: Signal<Option<UiError>>) -> Signal<BTreeMap<String, String>> {
    Signal::derive(move || error.get().map(|e| e.0.field_errors()).unwrap_or_default())
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
    #[prop(into)] errors: Signal<BTreeMap<String, String>>,
    /// Keeps ids unique when a page holds several forms with the same fields.
    #[prop(into, optional)]
    prefix: String,
) -> impl IntoView {
    let id = format!("field-{prefix}{name}");
    let error_id = format!("{id}-error");
    let error = move || errors.read().get(name).cloned();
    let input_type = if input_type.is_empty() {
        "text"
    } else {
        input_type
    };
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=input_type
                value=value
                required=required
                pattern=(!pattern.is_empty()).then_some(pattern)
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=error_id.clone()
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id>{error}</p>
        </div>
    }
}

/// A multi-line text input with its label and inline error.
#[component]
pub fn TextArea(
    label: &'static str,
    name: &'static str,
    #[prop(into, optional)] value: String,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] errors: Signal<BTreeMap<String, String>>,
    /// Keeps ids unique when a page holds several forms with the same fields.
    #[prop(into, optional)]
    prefix: String,
) -> impl IntoView {
    let id = format!("field-{prefix}{name}");
    let error_id = format!("{id}-error");
    let error = move || errors.read().get(name).cloned();
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows="3" aria-describedby=error_id.clone()>{value}</textarea>
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id>{error}</p>
        </div>
    }
}

/// The form-level message of an action's last error (conflicts, permissions...).
#[component]
pub fn FormError(error: Signal<Option<UiError>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|e| view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> })
    }
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

/// A page-wide counter that forms bump after a successful save, so the page's data reloads even
/// when the save leads back to the same address.
#[derive(Clone, Copy)]
pub struct Refresh(pub RwSignal<u32>);

/// Provides a [`Refresh`] for the page and returns it, for the page's resources to depend on.
pub fn provide_refresh() -> RwSignal<u32> {
    let counter = RwSignal::new(0);
    provide_context(Refresh(counter));
    counter
}

/// Bumps the page's [`Refresh`] each time the action succeeds.
pub fn refresh_on_success<T: Clone + Send + Sync + 'static>(
    value: MappedSignal<Option<Result<T, UiError>>>,
) {
    if let Some(Refresh(counter)) = use_context::<Refresh>() {
        Effect::new(move |_| {
            if matches!(value.get(), Some(Ok(_))) {
                counter.update(|n| *n += 1);
            }
        });
    }
}

/// A form of hidden fields and one button that calls a server function, shows the call's error
/// and reloads the page's data (see [`Refresh`]) when it succeeds. Without scripts it is a plain
/// form post that comes back to the page.
#[component]
pub fn ButtonForm<S, P>(
    action: ServerAction<S>,
    /// Hidden fields: (name, value).
    fields: Vec<(&'static str, String)>,
    /// The button's id.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    /// The button's class (`primary`, `secondary`, `link`).
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView
where
    S: serde::de::DeserializeOwned
        + ServerFn<Protocol = Http<PostUrl, P>, Error = UiError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Client: Client<UiError>,
    <<S::Client as Client<UiError>>::Request as ClientReq<UiError>>::FormData:
        From<leptos::web_sys::FormData>,
    S::Output: Clone + Send + Sync + 'static,
    P: 'static,
{
    let error = last_error(action.value());
    refresh_on_success(action.value());
    view! {
        <ActionForm action=action attr:class="inline-form button-form">
            <FormError error=error/>
            {fields.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value/> }).collect_view()}
            <button type="submit" class=class id=id>{label}</button>
        </ActionForm>
    }
}
