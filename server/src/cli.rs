//! `server check`: verifies the go-live checks on manifest files, an uploaded kubectl List or a
//! live cluster, without a database or configuration, and prints (or posts) the report.
//!
//! Exit codes: 0 when every required check was answered and passed; 1 when a required check
//! failed or could not be checked (an `error`: permission denied, a live cluster needed), or when
//! the read found no workload at all (a misspelt `--namespace`, the wrong folder: every check
//! that had nothing to judge fails, as Demarc's own runs do); 2 for usage or input errors (the
//! message names the argument or file) and for a failed `--post` when the run passed (when it did
//! not, 1 wins and the post's error is printed).
//!
//! Manifest files without Pods and Nodes cannot answer the checks of where Pods run
//! ([`checks::manifests::NEED_A_LIVE_CLUSTER`]): by default they still run, and say so, but are
//! not required; naming them in `--required` requires them (and fails the run).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use checks::cluster::ConnectionSpec;
use checks::report::Report;
use checks::{CheckId, CheckResult, Params};

const HELP: &str = "\
server check: verify Demarc's go-live checks on Kubernetes manifests or a live cluster.

USAGE:
    server check [PATH...] [OPTIONS]
    server check --cluster-server URL --cluster-token-env VAR [--namespace NS]... [OPTIONS]
    server check --kubeconfig FILE [--context NAME] [--namespace NS]... [OPTIONS]

INPUT (one of):
    PATH...                      Manifest files or folders (.yaml, .yml, .json, searched
                                 recursively), or `-` for standard input. YAML may hold several
                                 documents; JSON may be a `kubectl get ... -o json` List.
                                 Manifests carry no live Pods or Nodes: checks that need them
                                 (spread, drain_capacity) report an error saying so, and are
                                 not required unless --required names them. Files with no
                                 workload at all fail every check (nothing was checked).
    --cluster-server URL         Read a live cluster's API server instead of files.
    --cluster-token-env VAR      The environment variable holding the cluster bearer token
                                 (a service account token); required with --cluster-server.
    --cluster-ca FILE            The cluster's CA certificate (PEM); default: system roots.
    --kubeconfig FILE [--context NAME]
                                 Read the cluster of a kubeconfig (its current context, or NAME)
                                 instead of --cluster-server.
    --namespace NS               Cluster: the application's namespaces (repeatable; none reads
                                 every namespace). A read that finds no workload there fails
                                 every check with a message saying so. Files: the namespace of
                                 objects that name none (default `default`, as kubectl apply
                                 without -n).

CHECKS:
    --checks ID,...              Checks to run (default: all). IDs: replicas, probes, spread,
                                 resources, drain_capacity, disruption_budget,
                                 graceful_shutdown, rollout, non_root, network_policy, image,
                                 qos_priority, service_account, metrics_alerts, backups, tls.
    --required ID,...|all|none   Checks that must pass for the run to pass (exit 1 otherwise):
                                 a fail of a required check fails the run, and so does an error
                                 (it could not be checked: permission denied, a live cluster
                                 needed); warnings never do. Default: all checks that run, but
                                 for manifest files without Pods and Nodes spread and
                                 drain_capacity (they need a live cluster) are left out.
    --param KEY=VALUE            Check parameters (repeatable): min_replicas=2,
                                 max_grace_period_seconds=120, allowed_registries=ghcr.io/acme,
                                 registry.example.com, require_guaranteed=true,
                                 priority_classes=high,critical, min_certificate_days=14,
                                 rpo_hours=24.

OUTPUT:
    --format text|json|junit|sarif   Default text: results grouped by workload. json: the
                                 report documented in checks::report (schema
                                 demarc.check-report/v1). junit: one testsuite per check.
                                 sarif: SARIF 2.1.0 for code-scanning views.
    --output FILE                Write the report to FILE instead of standard output.
    --timings                    Print the time spent reading, evaluating and rendering to
                                 standard error.

POSTING TO DEMARC:
    --post URL                   POST the JSON report to Demarc's /api/v1/check-reports (URL is
                                 the Demarc address, or the endpoint itself).
    --token-env VAR              The environment variable holding the Demarc API token (sent as
                                 Authorization: Bearer). Required with --post, unless:
    --token-file FILE            The file holding the Demarc API token (a mounted secret).
    --application SLUG           The application the report is about. Required with --post.
    --environment SLUG           The environment it was taken from. Required with --post.

EXIT CODES:
    0  every required check was answered and passed
    1  a required check failed or could not be checked, or no workload was found
    2  usage or input error

EXAMPLES:
    server check deploy/
    kustomize build overlays/prod | server check - --format junit --output checks.xml
    server check deploy/ --checks probes,resources,non_root --required probes
    server check --cluster-server https://k8s.example.com:6443 --cluster-token-env K8S_TOKEN \\
        --namespace shop --format json
";

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Junit,
    Sarif,
}

/// What `--required` says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Required {
    All,
    None,
    Some(Vec<CheckId>),
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq)]
struct Args {
    paths: Vec<PathBuf>,
    cluster_server: Option<String>,
    cluster_token_env: Option<String>,
    cluster_ca: Option<PathBuf>,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    namespaces: Vec<String>,
    checks: Vec<CheckId>,
    required: Required,
    params: Params,
    format: Format,
    output: Option<PathBuf>,
    timings: bool,
    post: Option<String>,
    token_env: Option<String>,
    token_file: Option<PathBuf>,
    application: Option<String>,
    environment: Option<String>,
}

/// A usage or input error; exit code 2.
#[derive(Debug)]
struct UsageError(String);

impl<T: Into<String>> From<T> for UsageError {
    fn from(s: T) -> Self {
        UsageError(s.into())
    }
}

/// Runs `server check` with the arguments after `check`.
pub async fn run(args: Vec<String>) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let args = match parse_args(&args) {
        Ok(args) => args,
        Err(UsageError(e)) => {
            eprintln!("server check: {e}\nRun `server check --help` for usage.");
            return ExitCode::from(2);
        }
    };
    match check(&args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(UsageError(e)) => {
            eprintln!("server check: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(args: &[String]) -> Result<Args, UsageError> {
    let mut out = Args {
        paths: Vec::new(),
        cluster_server: None,
        cluster_token_env: None,
        cluster_ca: None,
        kubeconfig: None,
        context: None,
        namespaces: Vec::new(),
        checks: CheckId::ALL.to_vec(),
        required: Required::All,
        params: Params::default(),
        format: Format::Text,
        output: None,
        timings: false,
        post: None,
        token_env: None,
        token_file: None,
        application: None,
        environment: None,
    };
    let mut params = serde_json::Map::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        // `--flag=value` and `--flag value` both work.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, UsageError> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| UsageError(format!("{name} needs a value"))),
            }
        };
        match flag {
            "--cluster-server" => out.cluster_server = Some(value(flag)?),
            "--cluster-token-env" => out.cluster_token_env = Some(value(flag)?),
            "--cluster-ca" => out.cluster_ca = Some(PathBuf::from(value(flag)?)),
            "--kubeconfig" => out.kubeconfig = Some(PathBuf::from(value(flag)?)),
            "--context" => out.context = Some(value(flag)?),
            "--namespace" | "-n" => out.namespaces.push(value(flag)?),
            "--checks" => out.checks = parse_check_list(&value(flag)?, "--checks")?,
            "--required" => {
                let v = value(flag)?;
                out.required = match v.trim() {
                    "all" => Required::All,
                    "none" => Required::None,
                    list => Required::Some(parse_check_list(list, "--required")?),
                }
            }
            "--param" => {
                let v = value(flag)?;
                let (key, val) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--param `{v}`: expected KEY=VALUE"))?;
                params.insert(key.trim().to_string(), param_value(key.trim(), val.trim()));
            }
            "--format" => {
                out.format = match value(flag)?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    "junit" => Format::Junit,
                    "sarif" => Format::Sarif,
                    other => {
                        return Err(
                            format!("--format `{other}`: use text, json, junit or sarif").into(),
                        );
                    }
                }
            }
            "--output" | "-o" => out.output = Some(PathBuf::from(value(flag)?)),
            "--timings" => out.timings = true,
            "--post" => out.post = Some(value(flag)?),
            "--token-env" => out.token_env = Some(value(flag)?),
            "--token-file" => out.token_file = Some(PathBuf::from(value(flag)?)),
            "--application" => out.application = Some(value(flag)?),
            "--environment" => out.environment = Some(value(flag)?),
            "-" => out.paths.push(PathBuf::from("-")),
            f if f.starts_with('-') => return Err(format!("unknown option `{f}`").into()),
            path => out.paths.push(PathBuf::from(path)),
        }
    }
    out.params = serde_json::from_value(serde_json::Value::Object(params))
        .map_err(|e| format!("--param: {e}"))?;
    if out.cluster_server.is_some() && out.kubeconfig.is_some() {
        return Err("give --cluster-server or --kubeconfig, not both".into());
    }
    let cluster = out.cluster_server.is_some() || out.kubeconfig.is_some();
    match (cluster, out.paths.is_empty()) {
        (true, false) => {
            return Err("give manifest paths or a cluster, not both".into());
        }
        (false, true) => {
            return Err(
                "nothing to check: give manifest files or folders (`-` for standard input), --cluster-server or --kubeconfig"
                    .into(),
            );
        }
        _ => {}
    }
    if out.cluster_server.is_some() && out.cluster_token_env.is_none() {
        return Err("--cluster-server needs --cluster-token-env".into());
    }
    if !cluster && out.namespaces.len() > 1 {
        return Err("with manifest files, --namespace names the one default namespace".into());
    }
    if out.post.is_some() {
        if out.token_env.is_some() && out.token_file.is_some() {
            return Err("give --token-env or --token-file, not both".into());
        }
        if out.token_file.is_some() {
            out.token_env = Some(String::new());
        }
        for (flag, v) in [
            ("--token-env", &out.token_env),
            ("--application", &out.application),
            ("--environment", &out.environment),
        ] {
            if v.is_none() {
                return Err(format!("--post needs {flag}").into());
            }
        }
    }
    Ok(out)
}

fn parse_check_list(list: &str, flag: &str) -> Result<Vec<CheckId>, UsageError> {
    let mut out = Vec::new();
    for id in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let check = CheckId::parse(id).ok_or_else(|| {
            let known: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
            format!("{flag}: unknown check `{id}` (known: {})", known.join(", "))
        })?;
        if !out.contains(&check) {
            out.push(check);
        }
    }
    if out.is_empty() {
        return Err(format!("{flag} needs at least one check").into());
    }
    Ok(out)
}

/// A parameter value: a number or boolean when it reads as one, a list for the list
/// parameters, text otherwise. [`Params`] itself rejects unknown keys and wrong types.
fn param_value(key: &str, val: &str) -> serde_json::Value {
    use serde_json::Value;
    if matches!(key, "allowed_registries" | "priority_classes") {
        return Value::Array(
            val.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.into()))
                .collect(),
        );
    }
    if let Ok(n) = val.parse::<u64>() {
        return Value::from(n);
    }
    match val {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(val.into()),
    }
}

/// Reads, evaluates, renders and posts; `Ok(passed)`.
async fn check(args: &Args) -> Result<bool, UsageError> {
    let started = Instant::now();
    let (snapshot, origins, objects, unanswerable) = match cluster_spec(args)? {
        Some((spec, what)) => {
            let snapshot = read_cluster(args, &spec, &what).await?;
            (snapshot, None, None, Vec::new())
        }
        None => {
            let options = checks::manifests::ManifestOptions {
                default_namespace: args
                    .namespaces
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "default".into()),
            };
            let paths = args.paths.clone();
            let set = tokio::task::spawn_blocking(move || {
                checks::manifests::snapshot_from_paths_with(&paths, &options)
            })
            .await
            .map_err(|e| format!("reading manifests: {e}"))?
            .map_err(|e| e.to_string())?;
            for warning in &set.warnings {
                eprintln!("server check: warning: {warning}");
            }
            let unanswerable = checks::manifests::unanswerable(&set.snapshot);
            (
                set.snapshot,
                Some(set.origins),
                Some(set.objects),
                unanswerable,
            )
        }
    };
    let read = started.elapsed();

    let started = Instant::now();
    let selected: Vec<(CheckId, Params)> = args
        .checks
        .iter()
        .map(|c| (*c, args.params.clone()))
        .collect();
    let now = chrono::Utc::now();
    let mut results: Vec<CheckResult> = checks::engine::evaluate(&snapshot, &selected, now);
    // With no workload found, the checks that had nothing to judge fail rather than pass.
    let nothing = checks::report::nothing_found(
        &results,
        &args.checks,
        snapshot.source.as_ref(),
        &snapshot.namespaces,
    );
    results.extend(nothing);
    let evaluate = started.elapsed();

    let started = Instant::now();
    let required = required_checks(args, &unanswerable);
    let mut report = Report::new(
        &results,
        snapshot.source.as_ref(),
        &required,
        origins.as_ref(),
        now,
    );
    report.params = args.params.clone();
    let rendered = match args.format {
        Format::Text => report.to_text(),
        Format::Json => report.to_json(),
        Format::Junit => report.to_junit(),
        Format::Sarif => report.to_sarif(),
    };
    match &args.output {
        Some(path) => std::fs::write(path, &rendered)
            .map_err(|e| format!("--output {}: {e}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error of the checks.
            let _ = stdout.write_all(rendered.as_bytes());
            let _ = stdout.flush();
        }
    }
    let render = started.elapsed();
    if args.timings {
        eprintln!(
            "timings: read {} ms, evaluate {} ms, render {} ms ({} objects, {} results)",
            ms(read),
            ms(evaluate),
            ms(render),
            objects.map_or_else(|| count_objects(&snapshot).to_string(), |n| n.to_string()),
            results.len()
        );
    }
    if let Some(url) = &args.post
        && let Err(UsageError(e)) = post(args, url, &report).await
    {
        // The verdict stands whatever became of the copy sent to Demarc: a run that did not
        // pass still exits 1 (the pipeline stops for the right reason); otherwise the failed
        // post is the error (2).
        if !report.summary.passed {
            eprintln!("server check: {e}");
            return Ok(false);
        }
        return Err(UsageError(e));
    }
    Ok(report.summary.passed)
}

/// The checks whose results decide the run. By default, every check that runs, except those the
/// input cannot answer (manifest files without Pods and Nodes cannot say where Pods run): those
/// still run and report why they could not be answered, but do not fail a pipeline for what
/// files never show. Named in `--required`, they are required like any other.
fn required_checks(args: &Args, unanswerable: &[CheckId]) -> Vec<CheckId> {
    match &args.required {
        Required::All => {
            let left_out: Vec<&str> = args
                .checks
                .iter()
                .filter(|c| unanswerable.contains(c))
                .map(|c| c.as_str())
                .collect();
            if !left_out.is_empty() {
                eprintln!(
                    "server check: note: {} need a live cluster, so they are not required for these files (name them in --required to require them)",
                    left_out.join(" and ")
                );
            }
            args.checks
                .iter()
                .copied()
                .filter(|c| !unanswerable.contains(c))
                .collect()
        }
        Required::None => Vec::new(),
        Required::Some(list) => list.clone(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Objects in a snapshot read from a cluster, for the timings line.
fn count_objects(s: &checks::snapshot::Snapshot) -> usize {
    s.namespace_objects.items_or_empty().len()
        + s.deployments.items_or_empty().len()
        + s.stateful_sets.items_or_empty().len()
        + s.daemon_sets.items_or_empty().len()
        + s.cron_jobs.items_or_empty().len()
        + s.jobs.items_or_empty().len()
        + s.rollouts.items_or_empty().len()
        + s.pods.items_or_empty().len()
        + s.nodes.items_or_empty().len()
        + s.services.items_or_empty().len()
        + s.service_accounts.items_or_empty().len()
        + s.pod_disruption_budgets.items_or_empty().len()
        + s.horizontal_pod_autoscalers.items_or_empty().len()
        + s.network_policies.items_or_empty().len()
        + s.limit_ranges.items_or_empty().len()
        + s.ingresses.items_or_empty().len()
        + s.service_monitors.items_or_empty().len()
        + s.pod_monitors.items_or_empty().len()
        + s.prometheus_rules.items_or_empty().len()
        + s.velero_schedules.items_or_empty().len()
        + s.velero_backups.items_or_empty().len()
        + s.certificates.items_or_empty().len()
}

/// The cluster connection the arguments describe, and how to name it in errors.
fn cluster_spec(args: &Args) -> Result<Option<(ConnectionSpec, String)>, UsageError> {
    if let Some(server) = &args.cluster_server {
        let var = args.cluster_token_env.as_deref().unwrap_or_default();
        let token = std::env::var(var)
            .map_err(|_| format!("--cluster-token-env: environment variable {var} is not set"))?;
        let ca_pem = match &args.cluster_ca {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("--cluster-ca {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let spec = ConnectionSpec::Token {
            server: server.clone(),
            ca_pem,
            token,
        };
        return Ok(Some((spec, format!("--cluster-server {server}"))));
    }
    if let Some(path) = &args.kubeconfig {
        let yaml = std::fs::read_to_string(path)
            .map_err(|e| format!("--kubeconfig {}: {e}", path.display()))?;
        let spec = ConnectionSpec::Kubeconfig {
            yaml,
            context: args.context.clone(),
        };
        return Ok(Some((spec, format!("--kubeconfig {}", path.display()))));
    }
    Ok(None)
}

/// Reads the cluster. The reader never fails as a whole (what it could not read is recorded per
/// kind and becomes an `error` result), but a cluster that answers nothing at all is an input
/// error here, so that a typo in the URL does not look like a report.
async fn read_cluster(
    args: &Args,
    spec: &ConnectionSpec,
    what: &str,
) -> Result<checks::snapshot::Snapshot, UsageError> {
    let client = checks::cluster::client(spec)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let options = checks::cluster::ReadOptions {
        cluster_name: args
            .cluster_server
            .clone()
            .or_else(|| args.context.clone())
            .unwrap_or_else(|| "kubeconfig".into()),
        ..Default::default()
    };
    let snapshot =
        checks::cluster::read_snapshot_with(&client, &args.namespaces, &options, &|_| {}).await;
    let unanswered = snapshot
        .source
        .as_ref()
        .is_none_or(|s| s.server_version.is_none());
    if let (true, checks::snapshot::Source::Failed(reason)) = (unanswered, &snapshot.deployments) {
        return Err(format!("{what}: {reason}").into());
    }
    Ok(snapshot)
}

/// POSTs the JSON report, with the application and environment, to Demarc.
async fn post(args: &Args, url: &str, report: &Report) -> Result<(), UsageError> {
    let token = match &args.token_file {
        Some(file) => std::fs::read_to_string(file)
            .map(|t| t.trim().to_owned())
            .map_err(|e| format!("--token-file {}: {e}", file.display()))?,
        None => {
            let var = args.token_env.as_deref().unwrap_or_default();
            std::env::var(var)
                .map_err(|_| format!("--token-env: environment variable {var} is not set"))?
        }
    };
    let endpoint = endpoint_url(url);
    let mut body =
        serde_json::to_value(report).map_err(|e| format!("cannot encode the report: {e}"))?;
    if let Some(object) = body.as_object_mut() {
        object.insert("application".into(), args.application.clone().into());
        object.insert("environment".into(), args.environment.clone().into());
    }
    let response = reqwest::Client::new()
        .post(&endpoint)
        .bearer_auth(token)
        .json(&body)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| format!("--post {endpoint}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(500).collect();
        return Err(format!("--post {endpoint}: Demarc answered {status}: {text}").into());
    }
    eprintln!("server check: report posted to {endpoint} ({status})");
    Ok(())
}

/// The Demarc address, or the endpoint itself, as the endpoint URL.
fn endpoint_url(url: &str) -> String {
    const PATH: &str = "/api/v1/check-reports";
    let trimmed = url.trim_end_matches('/');
    if trimmed.ends_with(PATH) {
        trimmed.to_string()
    } else {
        format!("{trimmed}{PATH}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, UsageError> {
        parse_args(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn paths_format_checks_and_params_are_parsed() {
        let a = args(&[
            "deploy/",
            "--format=junit",
            "--checks",
            "probes,resources",
            "--required",
            "probes",
            "--param",
            "min_replicas=3",
            "--param",
            "allowed_registries=ghcr.io/acme, registry.example.com",
        ])
        .unwrap();
        assert_eq!(a.paths, vec![PathBuf::from("deploy/")]);
        assert_eq!(a.format, Format::Junit);
        assert_eq!(a.checks, vec![CheckId::Probes, CheckId::Resources]);
        assert_eq!(a.required, Required::Some(vec![CheckId::Probes]));
        assert_eq!(a.params.min_replicas, Some(3));
        assert_eq!(
            a.params.allowed_registries,
            vec!["ghcr.io/acme".to_string(), "registry.example.com".into()]
        );
    }

    #[test]
    fn usage_errors_name_the_argument() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "nothing to check"),
            (&["x", "--format", "xml"], "--format `xml`"),
            (&["x", "--checks", "replicas,nope"], "unknown check `nope`"),
            (&["x", "--param", "min_replicas"], "KEY=VALUE"),
            (&["x", "--param", "colour=blue"], "colour"),
            (&["x", "--param", "min_replicas=many"], "--param"),
            (
                &["x", "--post", "https://demarc"],
                "--post needs --token-env",
            ),
            (&["x", "--bogus"], "unknown option `--bogus`"),
            (&["x", "--output"], "--output needs a value"),
            (&["x", "--cluster-server", "https://k"], "not both"),
            (
                &["--cluster-server", "https://k"],
                "needs --cluster-token-env",
            ),
        ];
        for (list, expected) in cases {
            let err = args(list).unwrap_err().0;
            assert!(err.contains(expected), "{list:?}: {err}");
        }
    }

    /// A Deployment whose probes pass, as a CI pipeline's manifest files hold it: no Pods, no
    /// Nodes.
    const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.0.0
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /ready, port: http}}
        livenessProbe: {httpGet: {path: /live, port: http}, failureThreshold: 6}
";

    /// A fresh folder holding `files` (name, content), removed on drop.
    struct Folder(PathBuf);

    impl Folder {
        fn with(files: &[(&str, &str)]) -> Folder {
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let dir = std::env::temp_dir().join(format!("demarc-cli-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("a temporary folder");
            for (name, content) in files {
                std::fs::write(dir.join(name), content).expect("a manifest file");
            }
            Folder(dir)
        }

        /// Runs `server check` on the folder with `extra` arguments and the JSON report written
        /// into it: the exit code and the report.
        async fn check(&self, extra: &[&str]) -> (String, serde_json::Value) {
            let report = self.0.join("report.out");
            let mut list = vec![
                self.0.join("k8s").display().to_string(),
                "--format".into(),
                "json".into(),
                "--output".into(),
                report.display().to_string(),
            ];
            list.extend(extra.iter().map(|a| a.to_string()));
            let code = format!("{:?}", run(list).await);
            let text = std::fs::read_to_string(&report).unwrap_or_default();
            (code, serde_json::from_str(&text).unwrap_or_default())
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn exit(code: u8) -> String {
        format!("{:?}", ExitCode::from(code))
    }

    #[tokio::test]
    async fn checks_that_files_cannot_answer_are_not_required_unless_named() {
        let folder = Folder::with(&[]);
        std::fs::create_dir_all(folder.0.join("k8s")).unwrap();
        std::fs::write(folder.0.join("k8s/web.yaml"), WEB).unwrap();
        let checks = ["--checks", "probes,spread,drain_capacity"];
        // By default spread and drain_capacity run and say why they could not be answered,
        // without failing the pipeline.
        let (code, report) = folder.check(&checks).await;
        assert_eq!(code, exit(0), "{report}");
        assert_eq!(report["required"], serde_json::json!(["probes"]));
        assert_eq!(report["summary"]["counts"]["error"], 2, "{report}");
        assert_eq!(report["summary"]["passed"], true);
        // Required by name, a check that could not be answered fails the run.
        let (code, report) = folder
            .check(&[&checks[..], &["--required", "probes,spread"]].concat())
            .await;
        assert_eq!(code, exit(1), "{report}");
        assert_eq!(report["summary"]["required_failures"], 0);
        assert_eq!(report["summary"]["required_errors"], 1);
        assert_eq!(report["summary"]["passed"], false);
    }

    #[tokio::test]
    async fn files_without_a_workload_fail_rather_than_pass_having_checked_nothing() {
        let folder = Folder::with(&[]);
        std::fs::create_dir_all(folder.0.join("k8s")).unwrap();
        std::fs::write(
            folder.0.join("k8s/config.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {a: b}\n",
        )
        .unwrap();
        let (code, report) = folder.check(&["--checks", "probes,image"]).await;
        assert_eq!(code, exit(1), "{report}");
        let results = report["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(results.len(), 2, "{report}");
        for r in &results {
            assert_eq!(r["outcome"], "fail");
            assert_eq!(r["subject"]["name"], "*");
            assert!(
                r["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("No workload (Deployment, StatefulSet, DaemonSet, CronJob, Job or Argo Rollout) was found in the manifest files"),
                "{r}"
            );
        }
        // A pipeline that knows its files hold no workload can say nothing is required.
        let (code, _) = folder
            .check(&["--checks", "probes,image", "--required", "none"])
            .await;
        assert_eq!(code, exit(0));
        // With a workload, the same run passes.
        std::fs::write(folder.0.join("k8s/web.yaml"), WEB).unwrap();
        let (code, report) = folder.check(&["--checks", "probes,image"]).await;
        assert_eq!(code, exit(0), "{report}");
    }

    #[test]
    fn the_post_url_may_be_demarcs_address_or_the_endpoint() {
        assert_eq!(
            endpoint_url("https://demarc.example.com/"),
            "https://demarc.example.com/api/v1/check-reports"
        );
        assert_eq!(
            endpoint_url("http://localhost:3000/api/v1/check-reports"),
            "http://localhost:3000/api/v1/check-reports"
        );
    }
}
