//! A read-only Kubernetes API server for tests and benchmarks.
//!
//! It serves a folder of real manifests (YAML as `kubectl get -o yaml` prints them, statuses
//! included; several documents per file, `kind: List` and JSON accepted) the way an API server
//! does for readers: `/version`, discovery (`/api`, `/apis`, resource lists), list and get with
//! label and field selectors and pagination (`limit`, `continue`, `remainingItemCount`),
//! `SelfSubjectAccessReview` (which can be made to fail for some resources), and errors as
//! `Status` objects (401, 403, 404, 405, 500). The kube client and kubectl both work against it.
//!
//! Built-in kinds are always served. Custom kinds (ServiceMonitor, Velero Schedule, ...) are
//! served only when the fixture holds objects of that kind or its CustomResourceDefinition;
//! otherwise their group is absent from discovery and lists answer 404, which is how a CRD that
//! is not installed looks.
//!
//! ```no_run
//! # async fn example() {
//! let running = kube_fixture::start(
//!     kube_fixture::Config::from_dir("tests/fixtures/cluster").unwrap()
//!         .server_version("v1.31.4-eks-2d98532")
//!         .token("secret")
//!         .deny("", "pods", Some("shop")),
//! )
//! .await
//! .unwrap();
//! println!("{}", running.url);
//! running.shutdown().await;
//! # }
//! ```
//!
//! No controller runs: what the manifests' `status:` says is what readers see.

mod api;
pub mod manifests;
pub mod resources;
mod selector;
mod server;
mod store;

use std::net::SocketAddr;
use std::path::Path;

use serde_json::Value;

pub use manifests::{LoadError, load_dir, parse_objects};
pub use server::{Running, start};

/// A permission the server refuses: get, list and watch of `resource` in `group`, in one
/// namespace or (with `namespace: None`) everywhere. A cluster-wide list of a resource
/// denied in any namespace is refused too, as RBAC would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deny {
    /// API group, "" for the core group.
    pub group: String,
    /// The plural resource name (`pods`), or `*` for every resource of the group.
    pub resource: String,
    pub namespace: Option<String>,
}

/// How the server fails after a number of requests, to test a cluster that goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// After `n` answered requests it drops every connection and stops listening
    /// (the next request gets "connection refused").
    DropAfter(u64),
    /// After `n` answered requests it accepts connections but never answers (a hung server or a
    /// black-holed network).
    HangAfter(u64),
    /// Every answer comes this much later (a slow or distant API server): lets a test watch a
    /// verification's progress.
    Slow(std::time::Duration),
}

/// The server's configuration, built fluently.
#[derive(Debug, Clone)]
pub struct Config {
    objects: Vec<Value>,
    settings: Settings,
    failure: Option<Failure>,
    address: SocketAddr,
}

/// The part of the configuration request handlers read.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub git_version: String,
    pub token: Option<String>,
    pub deny: Vec<Deny>,
    /// Resources whose SelfSubjectAccessReviews answer 500 (group, plural resource).
    pub failing_reviews: Vec<(String, String)>,
    pub user: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            objects: Vec::new(),
            settings: Settings {
                git_version: "v1.33.1".to_string(),
                token: None,
                deny: Vec::new(),
                failing_reviews: Vec::new(),
                user: "system:serviceaccount:demarc:reader".to_string(),
            },
            failure: None,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl Config {
    /// An empty cluster (only the built-in kinds, no objects) on 127.0.0.1, a free port.
    pub fn new() -> Self {
        Config::default()
    }

    /// A cluster holding every object of the manifests under `dir`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, LoadError> {
        Ok(Config::new().objects(load_dir(dir.as_ref())?))
    }

    /// Adds objects (each with apiVersion, kind and metadata.name; Lists are not flattened here).
    pub fn objects(mut self, objects: impl IntoIterator<Item = Value>) -> Self {
        self.objects.extend(objects);
        self
    }

    /// The gitVersion /version reports (default `v1.33.1`); major and minor follow from it.
    pub fn server_version(mut self, git_version: impl Into<String>) -> Self {
        self.settings.git_version = git_version.into();
        self
    }

    /// Requires `Authorization: Bearer <token>` on every request (401 otherwise).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.settings.token = Some(token.into());
        self
    }

    /// Refuses get/list/watch of a resource (403), in one namespace or everywhere.
    pub fn deny(mut self, group: &str, resource: &str, namespace: Option<&str>) -> Self {
        self.settings.deny.push(Deny {
            group: group.to_string(),
            resource: resource.to_string(),
            namespace: namespace.map(str::to_string),
        });
        self
    }

    /// Makes every SelfSubjectAccessReview about a resource answer 500 InternalError (an
    /// authorizer webhook that is down), to test a connection test that cannot check everything.
    pub fn fail_reviews(mut self, group: &str, resource: &str) -> Self {
        self.settings
            .failing_reviews
            .push((group.to_string(), resource.to_string()));
        self
    }

    /// The user named in 403 messages (default `system:serviceaccount:demarc:reader`).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.settings.user = user.into();
        self
    }

    /// Makes the server go away after a number of requests.
    pub fn failure(mut self, failure: Failure) -> Self {
        self.failure = Some(failure);
        self
    }

    /// Listens on this port of 127.0.0.1 (default 0: a free port).
    pub fn port(mut self, port: u16) -> Self {
        self.address.set_port(port);
        self
    }

    /// Listens on this address.
    pub fn address(mut self, address: SocketAddr) -> Self {
        self.address = address;
        self
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}
