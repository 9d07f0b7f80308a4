//! Demarc's user interface: Leptos pages rendered on the server, enhanced by one island.
//!
//! Pages read and write through the server functions in [`api`], which call the domain crate;
//! the UI holds no SQL and no rules of its own. Every page renders completely on the server
//! (`SsrMode::Async`), once per request, so it reads and prints without JavaScript. Forms are
//! plain HTML forms that post to their server function ([`components::PostForm`]): the answer
//! redirects, and a refused post comes back to its page with the error in the address, which the
//! page shows in the form (at its top and next to the fields it names).
//!
//! Leptos runs in islands mode: page components are server-only and hold no client-side state
//! (no actions, signals or effects: the server renders each page from its address), and the
//! only code compiled to wasm is the [`enhance::Enhancer`] island, which sends forms with
//! `fetch`, shows their errors in the same places, swaps in the page's fresh content after a
//! change and keeps live regions (a running verification) up to date. Tables, forms and their
//! data never travel to the browser as wasm or as serialized resources, so a first visit
//! downloads tens of kilobytes instead of hundreds.

// The scope pages nest deep typed views; without erased components (release builds) the
// compiler needs more than the default 128 levels to lay out their hydration futures.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod enhance;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::Layout;

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/demarc.css"/>
        <Title formatter=|text: String| if text.is_empty() { "Demarc".to_owned() } else { format!("{text} · Demarc") }/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::dashboard::DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/teams") view=pages::teams::TeamsPage ssr=SsrMode::Async/>
                    <Route path=path!("/teams/new") view=pages::teams::NewTeamPage ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:id") view=pages::teams::TeamPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms") view=pages::platforms::PlatformsPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/new") view=pages::platforms::NewPlatformPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id") view=pages::platforms::PlatformPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/scope") view=pages::scope::ScopePage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/scope/draft") view=pages::scope::ScopeDraftPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/scope/diff") view=pages::scope::ScopeDiffPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/checklist") view=pages::golive::ChecklistPage ssr=SsrMode::Async/>
                    <Route path=path!("/scope") view=pages::scope::ScopeIndexPage ssr=SsrMode::Async/>
                    <Route path=path!("/scope/audits") view=pages::scope::ScopeAuditsPage ssr=SsrMode::Async/>
                    <Route path=path!("/scope/audits/:id") view=pages::scope::ScopeAuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/golive") view=pages::golive::GoLiveBoardPage ssr=SsrMode::Async/>
                    <Route path=path!("/golive/clusters") view=pages::golive::ClustersPage ssr=SsrMode::Async/>
                    <Route path=path!("/golive/reviews/:id") view=pages::golive::ReviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/golive/reviews/:id/frozen") view=pages::golive::FrozenReviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/applications") view=pages::applications::ApplicationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/applications/new") view=pages::applications::NewApplicationPage ssr=SsrMode::Async/>
                    <Route path=path!("/applications/:id") view=pages::applications::ApplicationPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar") view=pages::calendar::CalendarPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/plans") view=pages::calendar::PlansPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/maintenances/new") view=pages::calendar::NewMaintenancePage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/maintenances/:id") view=pages::calendar::MaintenancePage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/maintenances/:id/edit") view=pages::calendar::EditMaintenancePage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/drills/new") view=pages::calendar::NewDrillPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/drills/:id") view=pages::calendar::DrillPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/feeds") view=pages::calendar::FeedsPage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=pages::audit::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/tokens") view=pages::tokens::TokensPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Entry point of the wasm bundle: prepares the islands of the server-rendered page (the
/// islands script then hydrates each `<leptos-island>`).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
