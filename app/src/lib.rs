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

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::Layout;
use crate::pages::{
    applications::{ApplicationPage, ApplicationsPage, NewApplicationPage},
    audit::AuditPage,
    calendar::{
        CalendarPage, DrillPage, EditMaintenancePage, FeedsPage, MaintenancePage, NewDrillPage,
        NewMaintenancePage, PlansPage,
    },
    dashboard::DashboardPage,
    golive::{ChecklistPage, ClustersPage, FrozenReviewPage, GoLiveBoardPage, ReviewPage},
    platforms::{NewPlatformPage, PlatformPage, PlatformsPage},
    scope::{
        ScopeAuditPage, ScopeAuditsPage, ScopeDiffPage, ScopeDraftPage, ScopeIndexPage, ScopePage,
    },
    teams::{NewTeamPage, TeamPage, TeamsPage},
    tokens::TokensPage,
};

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
                    <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/teams") view=TeamsPage ssr=SsrMode::Async/>
                    <Route path=path!("/teams/new") view=NewTeamPage ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:id") view=TeamPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms") view=PlatformsPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/new") view=NewPlatformPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id") view=PlatformPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/scope") view=ScopePage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/scope/draft") view=ScopeDraftPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/scope/diff") view=ScopeDiffPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/checklist") view=ChecklistPage ssr=SsrMode::Async/>
                    <Route path=path!("/scope") view=ScopeIndexPage ssr=SsrMode::Async/>
                    <Route path=path!("/scope/audits") view=ScopeAuditsPage ssr=SsrMode::Async/>
                    <Route path=path!("/scope/audits/:id") view=ScopeAuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/golive") view=GoLiveBoardPage ssr=SsrMode::Async/>
                    <Route path=path!("/golive/clusters") view=ClustersPage ssr=SsrMode::Async/>
                    <Route path=path!("/golive/reviews/:id") view=ReviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/golive/reviews/:id/frozen") view=FrozenReviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/applications") view=ApplicationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/applications/new") view=NewApplicationPage ssr=SsrMode::Async/>
                    <Route path=path!("/applications/:id") view=ApplicationPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar") view=CalendarPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/plans") view=PlansPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/maintenances/new") view=NewMaintenancePage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/maintenances/:id") view=MaintenancePage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/maintenances/:id/edit") view=EditMaintenancePage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/drills/new") view=NewDrillPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/drills/:id") view=DrillPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar/feeds") view=FeedsPage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/tokens") view=TokensPage ssr=SsrMode::Async/>
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
    leptos::mount::hydrate_body(App);
}
