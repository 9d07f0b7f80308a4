//! Every page is a lazy route: its view code, and the client half of the server functions only it
//! calls, compile into a wasm chunk of its own (`cargo leptos build --split`), which the browser
//! fetches when it first shows that page. The main chunk keeps the runtime, the router and the
//! layout, so a first visit downloads the layout and one page instead of the whole product.
//! Every build must split (all `cargo leptos` commands in `scripts/` pass `--split`): an unsplit
//! wasm imports a chunk loader that does not exist, and the pages never hydrate.
//!
//! On the server, Leptos records which chunks a page used and preloads them with
//! `<link rel="modulepreload">`, so hydration does not wait for a second round trip.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::pages::{
    applications, audit, calendar, dashboard, golive, platforms, scope, teams, tokens,
};

/// Declares, for each page component, a route type of the same name whose view is split off.
macro_rules! lazy_pages {
    ($($module:ident :: $page:ident),* $(,)?) => {$(
        pub struct $page;

        #[lazy_route]
        impl LazyRoute for $page {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $module::$page().into_any()
            }
        }
    )*};
}

lazy_pages! {
    dashboard::DashboardPage,
    teams::TeamsPage,
    teams::NewTeamPage,
    teams::TeamPage,
    platforms::PlatformsPage,
    platforms::NewPlatformPage,
    platforms::PlatformPage,
    scope::ScopePage,
    scope::ScopeDraftPage,
    scope::ScopeDiffPage,
    scope::ScopeIndexPage,
    scope::ScopeAuditsPage,
    scope::ScopeAuditPage,
    golive::ChecklistPage,
    golive::GoLiveBoardPage,
    golive::ClustersPage,
    golive::ReviewPage,
    golive::FrozenReviewPage,
    applications::ApplicationsPage,
    applications::NewApplicationPage,
    applications::ApplicationPage,
    calendar::CalendarPage,
    calendar::PlansPage,
    calendar::NewMaintenancePage,
    calendar::MaintenancePage,
    calendar::EditMaintenancePage,
    calendar::NewDrillPage,
    calendar::DrillPage,
    calendar::FeedsPage,
    audit::AuditPage,
    tokens::TokensPage,
}
