//! The browser half of the UI: one small island that enhances the server-rendered pages.
//!
//! Every page is rendered on the server and works as plain HTML: links load pages, forms post to
//! their server function (`/_fn/...`), which answers a plain form post with a redirect. With the
//! wasm loaded, the [`Enhancer`] island takes over three things, generically, for every page:
//!
//! - **Forms** that post to a server function are sent with `fetch` instead. A failed call shows
//!   its messages in place: each field's message under the field that the error names (the
//!   domain's keys such as `raci.0.accountable` match the form's `raci[0][accountable]`), the
//!   whole message at the top of the form. A call that succeeds follows the redirect it answered
//!   with, or re-reads the page and swaps the new `<main>` in (the page's data changed), keeping
//!   the scroll position. A form with `data-reveal="ID"` also fills the element `ID` of the new
//!   page from the call's answer (`data-value="path.in.answer"` on its children) and shows it:
//!   that is how a new API token or feed address is shown once.
//! - **Live regions**: an element with an id and `data-poll="MS"` (a verification run in
//!   progress) is re-read from the page every MS milliseconds; once the fresh copy no longer
//!   polls, the whole `<main>` is swapped in, so what the run changed shows too.
//! - It marks `<main data-hydrated="true">`, for people and tests who want to know.
//!
//! No page, type or server function is compiled into the wasm: only this module and the error
//! type it reads, which keeps the download small (BENCHMARKS.md, "Front end").

use leptos::prelude::*;

/// The island that enhances forms and live regions of every page (see the module docs).
#[island]
pub fn Enhancer() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    client::start();
}

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    use leptos::task::spawn_local;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        Document, DomParser, Element, Event, FormData, Headers, HtmlElement, HtmlFormElement,
        Request, RequestInit, Response, SupportedType, Url, UrlSearchParams,
    };

    /// The header a server function sets when it asks the caller to go elsewhere.
    const REDIRECT_HEADER: &str = "serverfnredirect";
    /// The message when Demarc cannot be reached at all.
    const UNREACHABLE: &str = "Demarc could not be reached. Check your connection and try again.";

    thread_local! {
        /// The ids of the live regions being polled, so a swap never starts a second poll.
        static POLLING: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
    }

    pub fn start() {
        let Some(document) = document() else {
            return;
        };
        if let Some(main) = document.get_element_by_id("main") {
            _ = main.set_attribute("data-hydrated", "true");
        }
        let on_submit = Closure::<dyn Fn(Event)>::new(on_submit);
        _ = document.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        // The listener lives as long as the page.
        on_submit.forget();
        start_polls(&document);
    }

    fn document() -> Option<Document> {
        web_sys::window()?.document()
    }

    fn on_submit(event: Event) {
        if event.default_prevented() {
            return;
        }
        let Some(form) = event
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        let action = form.get_attribute("action").unwrap_or_default();
        if !action.starts_with("/_fn/") || !form.method().eq_ignore_ascii_case("post") {
            return;
        }
        event.prevent_default();
        if form.get_attribute("aria-busy").as_deref() == Some("true") {
            return;
        }
        spawn_local(submit(form, action));
    }

    /// Sends the form to its server function and shows the outcome.
    async fn submit(form: HtmlFormElement, action: String) {
        _ = form.set_attribute("aria-busy", "true");
        let outcome = call(&form, &action).await;
        _ = form.remove_attribute("aria-busy");
        match outcome {
            Ok(Answer::Redirect(location)) => go_to(&location).await,
            Ok(Answer::Done(body)) => {
                refresh().await;
                if let Some(target) = form.get_attribute("data-reveal") {
                    reveal(&target, &body);
                }
            }
            Ok(Answer::Failed { status, body }) => {
                let error = serde_json::from_str::<domain::Error>(&body).ok();
                show_error(&form, error, status);
            }
            Err(_) => show_message(&form, UNREACHABLE),
        }
    }

    /// How a server function answered.
    enum Answer {
        /// Go to this address.
        Redirect(String),
        /// Success, with the answer's body (JSON).
        Done(String),
        /// The call failed: the status and the error's JSON.
        Failed { status: u16, body: String },
    }

    async fn call(form: &HtmlFormElement, action: &str) -> Result<Answer, JsValue> {
        let fields = FormData::new_with_form(form)?;
        let body: JsValue = UrlSearchParams::new_with_str_sequence_sequence(&fields)?
            .to_string()
            .into();
        let response = fetch(&request(action, "application/json", Some(&body))?).await?;
        let answer_headers = response.headers();
        if answer_headers.get(REDIRECT_HEADER)?.is_some()
            && let Some(location) = answer_headers.get("location")?
        {
            return Ok(Answer::Redirect(location));
        }
        let status = response.status();
        let text = text(&response).await?;
        Ok(if response.ok() {
            Answer::Done(text)
        } else {
            Answer::Failed { status, body: text }
        })
    }

    /// A same-origin request for `url` that accepts `accept`; a form post when there is a
    /// `form` body (URL-encoded, as server functions read it).
    fn request(url: &str, accept: &str, form: Option<&JsValue>) -> Result<Request, JsValue> {
        let headers = Headers::new()?;
        headers.set("Accept", accept)?;
        let init = RequestInit::new();
        if let Some(body) = form {
            headers.set("Content-Type", "application/x-www-form-urlencoded")?;
            init.set_method("POST");
            init.set_body(body);
        }
        init.set_headers(&headers);
        Request::new_with_str_and_init(url, &init)
    }

    async fn fetch(request: &Request) -> Result<Response, JsValue> {
        let window = web_sys::window().ok_or(JsValue::NULL)?;
        JsFuture::from(window.fetch_with_request(request))
            .await?
            .dyn_into::<Response>()
    }

    async fn text(response: &Response) -> Result<String, JsValue> {
        Ok(JsFuture::from(response.text()?)
            .await?
            .as_string()
            .unwrap_or_default())
    }

    /// Follows a redirect: another page loads; the same page (perhaps with another `#fragment`)
    /// is re-read in place and scrolled to the fragment.
    async fn go_to(location: &str) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let here = window.location();
        let current = here.href().unwrap_or_default();
        let Ok(target) = Url::new_with_base(location, &current) else {
            _ = here.assign(location);
            return;
        };
        let same_page = here.pathname().ok().as_deref() == Some(target.pathname().as_str())
            && here.search().ok().as_deref() == Some(target.search().as_str());
        if !same_page {
            _ = here.assign(&target.href());
            return;
        }
        refresh().await;
        let fragment = target.hash();
        if let Some(element) = fragment
            .strip_prefix('#')
            .filter(|id| !id.is_empty())
            .and_then(|id| document()?.get_element_by_id(id))
        {
            element.scroll_into_view();
        }
    }

    /// Reads the current page again and swaps its `<main>` in; reloads when that fails (the
    /// session ended, say, and the page now sends the browser to the sign-in).
    async fn refresh() {
        match read_page().await {
            Some(page) => swap_main(&page),
            None => reload(),
        }
    }

    fn reload() {
        if let Some(window) = web_sys::window() {
            _ = window.location().reload();
        }
    }

    /// The current page as the server renders it now.
    async fn read_page() -> Option<Document> {
        let window = web_sys::window()?;
        let href = window.location().href().ok()?;
        let response = fetch(&request(&href, "text/html", None).ok()?).await.ok()?;
        if !response.ok() || response.url() != href.split('#').next().unwrap_or_default() {
            return None;
        }
        let html = text(&response).await.ok()?;
        DomParser::new()
            .ok()?
            .parse_from_string(&html, SupportedType::TextHtml)
            .ok()
    }

    /// Puts the `<main>` of `page` in place of the current one, with its title and live regions.
    fn swap_main(page: &Document) {
        let Some(document) = document() else {
            return;
        };
        let (Some(fresh), Some(main)) = (
            page.get_element_by_id("main"),
            document.get_element_by_id("main"),
        ) else {
            reload();
            return;
        };
        // Keyboard users keep their place: the control that had the focus (a form's button, by
        // its id) gets it back in the fresh content.
        let focused = document
            .active_element()
            .map(|e| e.id())
            .filter(|id| !id.is_empty());
        main.set_inner_html(&fresh.inner_html());
        document.set_title(&page.title());
        if let Some(control) = focused
            .and_then(|id| document.get_element_by_id(&id))
            .and_then(|e| e.dyn_into::<HtmlElement>().ok())
        {
            _ = control.focus();
        }
        start_polls(&document);
    }

    /// Fills the element `id` from the call's JSON answer and shows it.
    fn reveal(id: &str, body: &str) {
        let (Some(document), Ok(answer)) = (document(), js_sys::JSON::parse(body)) else {
            return;
        };
        let Some(target) = document.get_element_by_id(id) else {
            return;
        };
        for slot in elements(&target, "[data-value]") {
            let path = slot.get_attribute("data-value").unwrap_or_default();
            let value = path.split('.').try_fold(answer.clone(), |value, key| {
                js_sys::Reflect::get(&value, &JsValue::from_str(key)).ok()
            });
            slot.set_text_content(value.and_then(|v| v.as_string()).as_deref());
        }
        _ = target.remove_attribute("hidden");
        target.scroll_into_view();
    }

    /// Shows a failed call's messages: per field where the form has the field, and in full at the
    /// top of the form.
    fn show_error(form: &HtmlFormElement, error: Option<domain::Error>, status: u16) {
        clear_errors(form);
        let Some(error) = error else {
            show_message(
                form,
                &format!("Demarc answered with an error ({status}). Try again shortly."),
            );
            return;
        };
        let controls = elements(form, "[name]");
        let mut first_invalid: Option<Element> = None;
        for (key, message) in error.field_errors() {
            let Some(control) = controls.iter().find(|c| {
                c.get_attribute("name")
                    .is_some_and(|n| field_key(&n) == key)
            }) else {
                continue;
            };
            _ = control.set_attribute("aria-invalid", "true");
            let container = control
                .closest(".field")
                .ok()
                .flatten()
                .or_else(|| control.closest("tr").ok().flatten());
            if let Some(container) = container {
                _ = container.class_list().add_1("invalid");
                if let Ok(Some(slot)) = container.query_selector(".field-error") {
                    let text = slot.text_content().unwrap_or_default();
                    let text = if text.is_empty() {
                        message
                    } else {
                        format!("{text} {message}")
                    };
                    slot.set_text_content(Some(&text));
                }
            }
            first_invalid.get_or_insert(control.clone());
        }
        show_message(form, &error.to_string());
        if let Some(control) = first_invalid.and_then(|c| c.dyn_into::<HtmlElement>().ok()) {
            _ = control.focus();
        }
    }

    /// The message at the top of the form (replacing an earlier one).
    fn show_message(form: &HtmlFormElement, message: &str) {
        for old in elements(form, ".form-error") {
            old.remove();
        }
        let Some(document) = document() else {
            return;
        };
        let Ok(alert) = document.create_element("p") else {
            return;
        };
        _ = alert.set_attribute("class", "alert alert-error form-error");
        _ = alert.set_attribute("role", "alert");
        alert.set_text_content(Some(message));
        _ = form.prepend_with_node_1(&alert);
    }

    /// Forgets the messages of an earlier failed call.
    fn clear_errors(form: &HtmlFormElement) {
        for slot in elements(form, ".field-error") {
            slot.set_text_content(None);
        }
        for container in elements(form, ".invalid") {
            _ = container.class_list().remove_1("invalid");
        }
        for control in elements(form, "[aria-invalid='true']") {
            _ = control.set_attribute("aria-invalid", "false");
        }
    }

    /// The key the domain's errors use for a form field: `raci[0][accountable]` ->
    /// `raci.0.accountable`.
    fn field_key(name: &str) -> String {
        name.replace("][", ".")
            .replace(['[', ']'], ".")
            .trim_end_matches('.')
            .to_owned()
    }

    /// The elements under `root` that match `selector`.
    fn elements(root: &Element, selector: &str) -> Vec<Element> {
        let Ok(list) = root.query_selector_all(selector) else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.get(i)?.dyn_into::<Element>().ok())
            .collect()
    }

    /// Starts polling every live region of the page that is not polled yet.
    fn start_polls(document: &Document) {
        let Some(root) = document.document_element() else {
            return;
        };
        for element in elements(&root, "[data-poll][id]") {
            let id = element.id();
            let every = element
                .get_attribute("data-poll")
                .and_then(|ms| ms.parse::<i32>().ok())
                .unwrap_or(1000)
                .clamp(250, 60_000);
            if POLLING.with_borrow_mut(|ids| ids.insert(id.clone())) {
                spawn_local(poll(id, every));
            }
        }
    }

    /// Re-reads the live region `id` every `every` ms until it stops polling or leaves the page.
    async fn poll(id: String, every: i32) {
        loop {
            sleep(every).await;
            if document().and_then(|d| d.get_element_by_id(&id)).is_none() {
                break;
            }
            let Some(page) = read_page().await else {
                continue;
            };
            let Some(fresh) = page.get_element_by_id(&id) else {
                break;
            };
            if !fresh.has_attribute("data-poll") {
                POLLING.with_borrow_mut(|ids| ids.remove(&id));
                swap_main(&page);
                return;
            }
            if let Some(current) = document().and_then(|d| d.get_element_by_id(&id)) {
                current.set_outer_html(&fresh.outer_html());
            }
        }
        POLLING.with_borrow_mut(|ids| ids.remove(&id));
    }

    async fn sleep(ms: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        });
        _ = JsFuture::from(promise).await;
    }
}
