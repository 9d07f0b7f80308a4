//! Building a kube client from what an administrator entered: in-cluster, a kubeconfig, or a
//! server URL with a bearer token.

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

/// How to reach a cluster.
#[derive(Clone, PartialEq, Eq)]
pub enum ConnectionSpec {
    /// The service account Demarc runs as, when it runs inside the cluster.
    InCluster,
    /// A kubeconfig file's text and the context to use (default: its current context).
    Kubeconfig {
        yaml: String,
        context: Option<String>,
    },
    /// An API server URL, its CA certificate (PEM; `None` uses the system roots) and a bearer
    /// token (a service account token, for instance).
    Token {
        server: String,
        ca_pem: Option<String>,
        token: String,
    },
}

impl ConnectionSpec {
    /// Which API server this connection reads, for evidence: the URL (token mode; the current or
    /// named context's cluster in a kubeconfig), or `in-cluster`. Never a credential; a
    /// kubeconfig that cannot be read gives `kubeconfig`.
    pub fn server(&self) -> String {
        match self {
            ConnectionSpec::InCluster => "in-cluster".to_string(),
            ConnectionSpec::Token { server, .. } => server.trim().to_string(),
            ConnectionSpec::Kubeconfig { yaml, context } => Kubeconfig::from_yaml(yaml)
                .ok()
                .and_then(|k| {
                    let name = context.clone().or(k.current_context.clone())?;
                    let cluster = k
                        .contexts
                        .iter()
                        .find(|c| c.name == name)?
                        .context
                        .as_ref()?
                        .cluster
                        .clone();
                    k.clusters
                        .iter()
                        .find(|c| c.name == cluster)?
                        .cluster
                        .as_ref()?
                        .server
                        .clone()
                })
                .unwrap_or_else(|| "kubeconfig".to_string()),
        }
    }
}

/// Credentials never reach logs through `{:?}`.
impl std::fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectionSpec::InCluster => f.write_str("InCluster"),
            ConnectionSpec::Kubeconfig { context, .. } => f
                .debug_struct("Kubeconfig")
                .field("context", context)
                .finish_non_exhaustive(),
            ConnectionSpec::Token { server, ca_pem, .. } => f
                .debug_struct("Token")
                .field("server", server)
                .field("ca_pem", &ca_pem.as_ref().map(|_| "<pem>"))
                .finish_non_exhaustive(),
        }
    }
}

/// Why no client could be built. Messages name what to fix and never contain credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterError {
    /// The connection settings are wrong (bad kubeconfig, unknown context, bad URL or CA).
    Invalid(String),
    /// Demarc does not run inside a cluster (no service account token mounted).
    NotInCluster(String),
    /// The client could not be built (TLS setup).
    Client(String),
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterError::Invalid(m) | ClusterError::NotInCluster(m) | ClusterError::Client(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for ClusterError {}

/// Builds a kube client for a cluster. Nothing is sent to the cluster yet: use
/// [`test_connection`](super::test_connection) to find out whether it answers.
pub async fn client(spec: &ConnectionSpec) -> Result<kube::Client, ClusterError> {
    let config = match spec {
        ConnectionSpec::InCluster => kube::Config::incluster().map_err(|e| {
            ClusterError::NotInCluster(format!("Demarc does not seem to run inside a cluster: {e}"))
        })?,
        ConnectionSpec::Kubeconfig { yaml, context } => {
            let kubeconfig = Kubeconfig::from_yaml(yaml).map_err(kubeconfig_error)?;
            from_kubeconfig(kubeconfig, context.clone()).await?
        }
        ConnectionSpec::Token {
            server,
            ca_pem,
            token,
        } => {
            let server = server.trim();
            let host = server
                .strip_prefix("https://")
                .or_else(|| server.strip_prefix("http://"));
            if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
                return Err(ClusterError::Invalid(format!(
                    "the server URL {server:?} is not a valid URL (https://host:port)"
                )));
            }
            if token.trim().is_empty() {
                return Err(ClusterError::Invalid("the token is empty".to_string()));
            }
            let mut cluster = serde_json::json!({ "server": server });
            if let Some(pem) = ca_pem.as_deref().filter(|p| !p.trim().is_empty()) {
                if !pem.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(ClusterError::Invalid(
                        "the CA certificate is not PEM (it should start with -----BEGIN CERTIFICATE-----)"
                            .to_string(),
                    ));
                }
                cluster["certificate-authority-data"] = base64(pem.as_bytes()).into();
            }
            // JSON is YAML: the kubeconfig parser reads it, and checks the CA as for a file.
            let document = serde_json::json!({
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "demarc", "cluster": cluster}],
                "users": [{"name": "demarc", "user": {"token": token.trim()}}],
                "contexts": [{"name": "demarc", "context": {"cluster": "demarc", "user": "demarc"}}],
                "current-context": "demarc",
            });
            let kubeconfig =
                Kubeconfig::from_yaml(&document.to_string()).map_err(kubeconfig_error)?;
            from_kubeconfig(kubeconfig, None).await?
        }
    };
    kube::Client::try_from(config)
        .map_err(|e| ClusterError::Client(format!("cannot build the cluster client: {e}")))
}

/// Why a connection stored in Demarc cannot be used, if it cannot: see
/// [`refuse_host_references`]. Kubeconfig parse errors are left to [`client`], which names them.
/// (The command line's own `--kubeconfig` is the operator's file on the operator's machine and
/// is not restricted.)
pub fn stored_connection_problem(spec: &ConnectionSpec) -> Option<String> {
    match spec {
        ConnectionSpec::InCluster => None,
        ConnectionSpec::Token { server, .. } => plain_http_only_on_loopback(server).err(),
        ConnectionSpec::Kubeconfig { yaml, .. } => {
            let kubeconfig = Kubeconfig::from_yaml(yaml).ok()?;
            refuse_host_references(&kubeconfig).err()
        }
    }
    .map(|e| e.to_string())
}

/// A kubeconfig pasted into Demarc is data, not instructions for the machine Demarc runs on:
/// credential plugins (`exec`, `auth-provider`) would run programs there, and file paths
/// (`tokenFile`, `client-certificate`, `client-key`, `certificate-authority`) would read its
/// files. Both are refused, naming the user or cluster and what to paste instead; so is a plain
/// http server that is not on this machine, which would send the credentials in clear.
fn refuse_host_references(kubeconfig: &Kubeconfig) -> Result<(), ClusterError> {
    for named in &kubeconfig.auth_infos {
        let Some(user) = &named.auth_info else {
            continue;
        };
        let name = &named.name;
        if user.exec.is_some() || user.auth_provider.is_some() {
            return Err(ClusterError::Invalid(format!(
                "the kubeconfig's user {name:?} gets its credentials from a plugin (exec or \
                 auth-provider), which Demarc does not run: use a service account token instead"
            )));
        }
        let files = [
            ("tokenFile", user.token_file.is_some()),
            ("client-certificate", user.client_certificate.is_some()),
            ("client-key", user.client_key.is_some()),
        ];
        if let Some((field, _)) = files.iter().find(|(_, set)| *set) {
            return Err(ClusterError::Invalid(format!(
                "the kubeconfig's user {name:?} points to a file ({field}): paste its content \
                 instead (token, client-certificate-data, client-key-data)"
            )));
        }
    }
    for named in &kubeconfig.clusters {
        let Some(cluster) = &named.cluster else {
            continue;
        };
        let name = &named.name;
        if cluster.certificate_authority.is_some() {
            return Err(ClusterError::Invalid(format!(
                "the kubeconfig's cluster {name:?} points to a file (certificate-authority): \
                 paste it as certificate-authority-data instead"
            )));
        }
        if let Some(server) = &cluster.server {
            plain_http_only_on_loopback(server)?;
        }
    }
    Ok(())
}

/// `http://` only for an API server on this machine (`kubectl proxy`, a test server). Schemes
/// and hosts are case-insensitive.
fn plain_http_only_on_loopback(server: &str) -> Result<(), ClusterError> {
    let lower = server.trim().to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("http://") else {
        return Ok(());
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .filter(|(h, port)| !h.is_empty() && port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        Ok(())
    } else {
        Err(ClusterError::Invalid(format!(
            "the server {server:?} is plain http: the credentials would cross the network in \
             clear; use https (http is accepted only for 127.0.0.1 and localhost)"
        )))
    }
}

async fn from_kubeconfig(
    kubeconfig: Kubeconfig,
    context: Option<String>,
) -> Result<kube::Config, ClusterError> {
    let options = KubeConfigOptions {
        context,
        ..KubeConfigOptions::default()
    };
    kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(kubeconfig_error)
}

/// Parse errors may quote the offending value (a token, a key): they are reported without it.
fn kubeconfig_error(error: KubeconfigError) -> ClusterError {
    let message = match &error {
        KubeconfigError::Parse(_) => "the kubeconfig is not valid YAML".to_string(),
        KubeconfigError::CurrentContextNotSet => {
            "the kubeconfig has no current-context: name the context to use".to_string()
        }
        KubeconfigError::LoadContext(name) => {
            format!("the kubeconfig has no context named {name:?}")
        }
        KubeconfigError::LoadClusterOfContext(name) => {
            format!("the kubeconfig has no cluster named {name:?} (used by the context)")
        }
        KubeconfigError::MissingClusterUrl => {
            "the kubeconfig's cluster has no server URL".to_string()
        }
        KubeconfigError::ParseClusterUrl(_) => {
            "the kubeconfig's server URL is not valid".to_string()
        }
        KubeconfigError::LoadCertificateAuthority(_) | KubeconfigError::ParseCertificates(_) => {
            "the certificate authority is not a valid PEM certificate".to_string()
        }
        KubeconfigError::LoadClientCertificate(_) | KubeconfigError::LoadClientKey(_) => {
            "the kubeconfig's client certificate or key cannot be read".to_string()
        }
        other => format!(
            "the kubeconfig cannot be used: {}",
            redact(&other.to_string())
        ),
    };
    ClusterError::Invalid(message)
}

/// Drops quoted text from a message (it may be a value from the kubeconfig).
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// Standard base64 (the kubeconfig's certificate-authority-data).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn error_of(spec: &ConnectionSpec) -> String {
        match client(spec).await {
            Ok(_) => panic!("expected an error for {spec:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn base64_matches_the_standard_alphabet_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact(r#"invalid type: "s3cr3t", expected"#),
            r#"invalid type: "…", expected"#
        );
    }

    #[tokio::test]
    async fn a_token_connection_builds_a_client_without_echoing_the_token() {
        let spec = ConnectionSpec::Token {
            server: "https://127.0.0.1:6443".into(),
            ca_pem: None,
            token: "s3cr3t-token".into(),
        };
        assert!(client(&spec).await.is_ok());
        assert!(!format!("{spec:?}").contains("s3cr3t"));
        assert_eq!(spec.server(), "https://127.0.0.1:6443");
        assert_eq!(ConnectionSpec::InCluster.server(), "in-cluster");

        let bad = ConnectionSpec::Token {
            server: "not a url".into(),
            ca_pem: None,
            token: "s3cr3t-token".into(),
        };
        let error = error_of(&bad).await;
        assert!(error.contains("not a valid URL"), "{error}");
        assert!(!error.contains("s3cr3t"));

        let bad_ca = ConnectionSpec::Token {
            server: "https://127.0.0.1:6443".into(),
            ca_pem: Some(
                "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
                    .into(),
            ),
            token: "s3cr3t-token".into(),
        };
        let error = error_of(&bad_ca).await;
        assert!(error.contains("certificate"), "{error}");
    }

    #[tokio::test]
    async fn a_kubeconfig_with_an_unknown_context_is_refused_by_name() {
        let yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:6443'}\nusers:\n- name: u\n  user: {token: s3cr3t}\ncontexts:\n- name: prod\n  context: {cluster: c, user: u}\ncurrent-context: prod\n";
        let ok = ConnectionSpec::Kubeconfig {
            yaml: yaml.into(),
            context: None,
        };
        assert!(client(&ok).await.is_ok());
        assert_eq!(ok.server(), "https://127.0.0.1:6443");
        let missing = ConnectionSpec::Kubeconfig {
            yaml: yaml.into(),
            context: Some("staging".into()),
        };
        let error = error_of(&missing).await;
        assert!(error.contains("staging"), "{error}");
        let broken = ConnectionSpec::Kubeconfig {
            yaml: "users: [token: s3cr3t".into(),
            context: None,
        };
        let error = error_of(&broken).await;
        assert!(!error.contains("s3cr3t"), "{error}");
    }

    #[test]
    fn a_stored_kubeconfig_that_would_run_programs_or_read_files_here_is_refused() {
        let config = |cluster: &str, user: &str| {
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {cluster}\n\
                 users:\n- name: u\n  user: {user}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\n\
                 current-context: x\n"
            )
        };
        let stored = |yaml: String| {
            stored_connection_problem(&ConnectionSpec::Kubeconfig {
                yaml,
                context: None,
            })
        };
        let https = "{server: 'https://api.example.com:6443'}";
        let exec = "{exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh}}";
        let refused = [
            (config(https, exec), "plugin"),
            (
                config(https, "{auth-provider: {name: oidc, config: {}}}"),
                "plugin",
            ),
            (config(https, "{tokenFile: /etc/shadow}"), "tokenFile"),
            (
                config(
                    https,
                    "{client-certificate: /root/c.pem, client-key-data: eA==}",
                ),
                "client-certificate",
            ),
            (config(https, "{client-key: /root/k.pem}"), "client-key"),
            (
                config(
                    "{server: 'https://a:6443', certificate-authority: /etc/ssl/ca.pem}",
                    "{token: t}",
                ),
                "certificate-authority",
            ),
            (
                config("{server: 'http://api.example.com:8080'}", "{token: t}"),
                "plain http",
            ),
            (
                config("{server: 'HTTP://API.example.com'}", "{token: t}"),
                "plain http",
            ),
        ];
        for (yaml, named) in refused {
            let problem = stored(yaml.clone()).unwrap_or_else(|| panic!("accepted: {yaml}"));
            assert!(problem.contains(named), "{problem}");
        }
        for allowed in [
            config(https, "{token: t}"),
            config("{server: 'http://127.0.0.1:8001'}", "{token: t}"),
            config("{server: 'http://LOCALHOST'}", "{username: a, password: b}"),
        ] {
            assert_eq!(stored(allowed.clone()), None, "{allowed}");
        }
        let token = |server: &str| ConnectionSpec::Token {
            server: server.into(),
            ca_pem: None,
            token: "s3cr3t".into(),
        };
        let clear = stored_connection_problem(&token("Http://10.0.0.1:6443")).unwrap();
        assert!(
            clear.contains("plain http") && !clear.contains("s3cr3t"),
            "{clear}"
        );
        assert_eq!(
            stored_connection_problem(&token("https://10.0.0.1:6443")),
            None
        );
    }
}
