//! Demarc's user interface: Leptos pages rendered on the server and hydrated in the browser.
//!
//! Pages read and write through the server functions in [`api`], which call the domain crate;
//! the UI holds no SQL and no rules of its own. Every page renders completely on the server
//! (`SsrMode::Async`), so it reads and prints without JavaScript; forms are plain HTML forms that
//! hydration turns into in-place updates.

// The scope pages nest deep typed views; without erased components (release builds) the
// compiler needs more than the default 128 levels to lay out their hydration futures.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod pages;
mod routes;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

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
                <HydrationScripts options/>
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
                    <Route path=path!("/") view={Lazy::<routes::DashboardPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams") view={Lazy::<routes::TeamsPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/new") view={Lazy::<routes::NewTeamPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:id") view={Lazy::<routes::TeamPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms") view={Lazy::<routes::PlatformsPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/new") view={Lazy::<routes::NewPlatformPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id") view={Lazy::<routes::PlatformPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/scope") view={Lazy::<routes::ScopePage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/scope/draft") view={Lazy::<routes::ScopeDraftPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/scope/diff") view={Lazy::<routes::ScopeDiffPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/checklist") view={Lazy::<routes::ChecklistPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/scope") view={Lazy::<routes::ScopeIndexPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/scope/audits") view={Lazy::<routes::ScopeAuditsPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/scope/audits/:id") view={Lazy::<routes::ScopeAuditPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/golive") view={Lazy::<routes::GoLiveBoardPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/golive/clusters") view={Lazy::<routes::ClustersPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/golive/reviews/:id") view={Lazy::<routes::ReviewPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/golive/reviews/:id/frozen") view={Lazy::<routes::FrozenReviewPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/applications") view={Lazy::<routes::ApplicationsPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/applications/new") view={Lazy::<routes::NewApplicationPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/applications/:id") view={Lazy::<routes::ApplicationPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/calendar") view={Lazy::<routes::CalendarPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/plans") view={Lazy::<routes::PlansPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/maintenances/new") view={Lazy::<routes::NewMaintenancePage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/maintenances/:id") view={Lazy::<routes::MaintenancePage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/maintenances/:id/edit") view={Lazy::<routes::EditMaintenancePage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/drills/new") view={Lazy::<routes::NewDrillPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/drills/:id") view={Lazy::<routes::DrillPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/feeds") view={Lazy::<routes::FeedsPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view={Lazy::<routes::AuditPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/tokens") view={Lazy::<routes::TokensPage>::new()} ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Entry point of the wasm bundle: attaches to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(App);
}
