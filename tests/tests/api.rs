//! Demarc through HTTP, as people and automation use it: login through a real OpenID provider,
//! login attacks, the REST API, the audit log, CSRF protection, forms without JavaScript, probes,
//! and an authorization matrix over every route the app serves. One binary, so the OpenID
//! provider starts once.
//!
//! Each test starts its own server with its own database (see the `tests` crate's helpers).

mod api {
    mod audit;
    mod calendar;
    mod cluster;
    mod csrf;
    mod forms;
    mod golive;
    mod login;
    mod matrix;
    mod oidc_attacks;
    mod pages;
    mod probes;
    mod rest;
    mod scope;
    pub mod support;
}
