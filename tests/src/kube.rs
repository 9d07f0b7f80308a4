//! The Kubernetes side of the tests: the fixture cluster (`tests/fixtures/cluster`, served by
//! the `kube-fixture` crate's read-only API server), kube clients for it, and kubectl.
//!
//! ```text
//! let cluster = kube_fixture::start(tests::kube::fixture_cluster()).await.unwrap();
//! let client = tests::kube::client(&cluster.url, None);
//! ```

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

/// The version the fixture cluster reports: an EKS build, as managed clusters print it.
pub const FIXTURE_VERSION: &str = "v1.31.4-eks-2d98532";

/// The folder of the fixture cluster's manifests.
pub fn fixture_dir() -> PathBuf {
    crate::workspace_root().join("tests/fixtures/cluster")
}

/// The fixture cluster's configuration (add a token, denials or a failure before starting it).
pub fn fixture_cluster() -> kube_fixture::Config {
    kube_fixture::Config::from_dir(fixture_dir())
        .expect("the fixture manifests load")
        .server_version(FIXTURE_VERSION)
}

/// A kube client for a fixture server (plain HTTP), with a bearer token if given.
pub fn client(url: &str, token: Option<&str>) -> ::kube::Client {
    let mut config = ::kube::Config::new(url.parse().expect("the fixture URL is a URI"));
    if let Some(token) = token {
        config.headers.push((
            http::header::AUTHORIZATION,
            format!("Bearer {token}").parse().expect("a header value"),
        ));
    }
    ::kube::Client::try_from(config).expect("a kube client")
}

/// A fresh folder under the system's temporary folder, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).expect("create a temporary folder");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `kubectl --server URL --cache-dir <fresh> ARGS...` (no kubeconfig is read). Panics with what to
/// install when kubectl is missing: the tests never skip it.
pub async fn kubectl(url: &str, args: &[&str]) -> Output {
    let cache = TempDir::new("demarc-kubectl-cache");
    let output = tokio::process::Command::new("kubectl")
        .arg("--server")
        .arg(url)
        .arg("--cache-dir")
        .arg(cache.path())
        // A missing file in KUBECONFIG is ignored: no developer's kubeconfig is read.
        .env("KUBECONFIG", cache.path().join("no-kubeconfig"))
        .args(args)
        .kill_on_drop(true)
        .output()
        .await;
    match output {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
            "kubectl is not installed (it is needed to test the fixture API server with the real \
             client); scripts/test installs it, see the README"
        ),
        Err(error) => panic!("kubectl could not run: {error}"),
    }
}
