//! One module per area of the product.

pub mod applications;
pub mod audit;
pub mod calendar;
pub mod dashboard;
pub mod golive;
pub mod platforms;
pub mod scope;
pub mod teams;
pub mod tokens;

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for an unknown address.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <h1>"Nothing here"</h1>
        <p>"This address does not match any page. "<a href="/">"Go to the dashboard"</a>"."</p>
    }
}
