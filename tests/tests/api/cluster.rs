//! The cluster reader and the Kubernetes API test server (`kube-fixture`), with the real kube
//! client and the real kubectl against the fixture cluster (tests/fixtures/cluster).

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use checks::cluster::{self, ConnectionSpec, Progress, ReadOptions};
use checks::snapshot::{Snapshot, Source};
use checks::{CheckId, Outcome, Params};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube_fixture::Failure;
use serde_json::{Value, json};
use tests::kube::{FIXTURE_VERSION, client, fixture_cluster, kubectl};

fn names<T: kube::Resource>(items: &[T]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.meta().name.clone().unwrap_or_default())
        .collect()
}

fn shop_and_payments() -> Vec<String> {
    vec!["shop".to_string(), "payments".to_string()]
}

async fn read(url: &str, namespaces: &[String], options: ReadOptions) -> Snapshot {
    cluster::read_snapshot_with(&client(url, None), namespaces, &options, &|_| {}).await
}

/// A state name for assertions: read(3), not_installed, forbidden, failed.
fn state<T>(source: &Source<T>) -> String {
    match source {
        Source::Read(items) => format!("read({})", items.len()),
        Source::NotInstalled => "not_installed".to_string(),
        Source::Forbidden(_) => "forbidden".to_string(),
        Source::Failed(_) => "failed".to_string(),
    }
}

#[tokio::test]
async fn the_kube_client_lists_and_gets_fixture_objects_with_selectors_and_pages() {
    let cluster = kube_fixture::start(fixture_cluster()).await.unwrap();
    let kube = client(&cluster.url, None);

    let pods: Api<Pod> = Api::namespaced(kube.clone(), "shop");
    let cart = pods
        .list(&ListParams::default().labels("app=cart"))
        .await
        .unwrap();
    assert_eq!(cart.items.len(), 3);
    assert!(names(&cart.items).iter().all(|n| n.starts_with("cart-")));
    let not_cart = pods
        .list(&ListParams::default().labels("app notin (cart),app"))
        .await
        .unwrap();
    assert_eq!(names(&not_cart.items), ["legacy-5d8f7b9c4a-q2v7n"]);
    let by_field = pods
        .list(&ListParams::default().fields("metadata.name=legacy-5d8f7b9c4a-q2v7n"))
        .await
        .unwrap();
    assert_eq!(by_field.items.len(), 1);

    // Pages of two over every namespace: 4 pods in shop, 2 in payments.
    let all: Api<Pod> = Api::all(kube.clone());
    let first = all.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.metadata.remaining_item_count, Some(4));
    let token = first.metadata.continue_.clone().expect("a continue token");
    assert!(first.metadata.resource_version.is_some());
    let mut seen = names(&first.items);
    let mut params = ListParams::default().limit(2).continue_token(&token);
    loop {
        let page = all.list(&params).await.unwrap();
        seen.extend(names(&page.items));
        match page.metadata.continue_ {
            Some(next) if !next.is_empty() => params = params.continue_token(&next),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        6,
        "no pod twice"
    );

    let deployments: Api<Deployment> = Api::namespaced(kube.clone(), "shop");
    let cart = deployments.get("cart").await.unwrap();
    assert_eq!(cart.spec.unwrap().replicas, Some(3));
    assert_eq!(cart.metadata.resource_version.as_deref(), Some("47102"));
    match deployments.get("nope").await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 404);
            assert_eq!(status.reason, "NotFound");
        }
        other => panic!("expected a 404 Status, got {other:?}"),
    }
    let version = kube.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, FIXTURE_VERSION);
    assert_eq!(version.minor, "31+");
}

#[tokio::test]
async fn the_fixture_server_speaks_kubernetes_errors_and_discovery() {
    let cluster = kube_fixture::start(fixture_cluster()).await.unwrap();
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", cluster.url)).send();

    let groups: Value = get("/apis").await.unwrap().json().await.unwrap();
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"apps") && names.contains(&"monitoring.coreos.com"));
    assert!(
        !names.contains(&"argoproj.io"),
        "Argo Rollouts is not installed: {names:?}"
    );

    let rollouts = get("/apis/argoproj.io/v1alpha1/rollouts").await.unwrap();
    assert_eq!(rollouts.status(), 404);
    let status: Value = rollouts.json().await.unwrap();
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "NotFound");

    let write = http
        .delete(format!("{}/api/v1/namespaces/shop/pods/x", cluster.url))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 405);

    let resources: Value = get("/apis/apps/v1").await.unwrap().json().await.unwrap();
    let deployments = resources["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments")
        .unwrap();
    assert_eq!(deployments["shortNames"], json!(["deploy"]));
    assert_eq!(deployments["namespaced"], true);
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused_with_401() {
    let cluster = kube_fixture::start(fixture_cluster().token("s3cr3t"))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::all(client(&cluster.url, Some("wrong")));
    match pods.list(&ListParams::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 401),
        other => panic!("expected 401, got {other:?}"),
    }
    let anonymous: Api<Pod> = Api::all(client(&cluster.url, None));
    assert!(anonymous.list(&ListParams::default()).await.is_err());

    // The connection form's token path reaches the cluster with the right token.
    let spec = ConnectionSpec::Token {
        server: cluster.url.clone(),
        ca_pem: None,
        token: "s3cr3t".to_string(),
    };
    let kube = cluster::client(&spec).await.unwrap();
    let report = cluster::test_connection(&kube).await.unwrap();
    assert_eq!(report.server_version, FIXTURE_VERSION);
    assert!(report.missing.is_empty(), "{:?}", report.missing);

    // Every kind fails (no kind is "empty") and the message names the cause, not the token.
    let snapshot = cluster::read_snapshot(
        &client(&cluster.url, Some("wrong")),
        &shop_and_payments(),
        &|_| {},
    )
    .await;
    match &snapshot.deployments {
        Source::Failed(message) => {
            assert!(message.contains("401"), "{message}");
            assert!(!message.contains("wrong"), "{message}");
        }
        other => panic!("expected a failure, got {}", state(other)),
    }
}

#[tokio::test]
async fn the_reader_reads_every_kind_of_the_fixture_cluster() {
    let cluster = kube_fixture::start(fixture_cluster()).await.unwrap();
    let events = Mutex::new(Vec::<Progress>::new());
    let snapshot = cluster::read_snapshot_with(
        &client(&cluster.url, None),
        &shop_and_payments(),
        &ReadOptions {
            cluster_name: "production".to_string(),
            page_size: 2,
            ..ReadOptions::default()
        },
        &|p| events.lock().unwrap().push(p),
    )
    .await;

    let source = snapshot.source.as_ref().unwrap();
    assert_eq!(source.kind, "cluster");
    assert_eq!(source.name, "production");
    assert_eq!(source.server_version.as_deref(), Some(FIXTURE_VERSION));
    assert_eq!(snapshot.namespaces, shop_and_payments());

    assert_eq!(
        names(snapshot.deployments.items().unwrap()),
        ["cart", "legacy"]
    );
    assert_eq!(names(snapshot.stateful_sets.items().unwrap()), ["ledger"]);
    assert_eq!(names(snapshot.cron_jobs.items().unwrap()), ["settlement"]);
    assert_eq!(state(&snapshot.pods), "read(6)", "paged by two");
    assert_eq!(state(&snapshot.nodes), "read(3)");
    assert_eq!(
        names(snapshot.namespace_objects.items().unwrap()),
        ["payments", "shop"],
        "only the application's namespaces"
    );
    assert_eq!(state(&snapshot.pod_disruption_budgets), "read(1)");
    assert_eq!(state(&snapshot.horizontal_pod_autoscalers), "read(1)");
    assert_eq!(state(&snapshot.network_policies), "read(2)");
    assert_eq!(state(&snapshot.limit_ranges), "read(1)");
    assert_eq!(state(&snapshot.ingresses), "read(1)");
    assert_eq!(state(&snapshot.services), "read(3)");
    assert_eq!(state(&snapshot.service_accounts), "read(2)");
    assert_eq!(state(&snapshot.daemon_sets), "read(0)");
    assert_eq!(
        monitor_names(&snapshot.service_monitors),
        ["monitoring/payments-ledger", "shop/cart"],
        "monitoring's monitor of payments, not its own"
    );
    assert_eq!(state(&snapshot.prometheus_rules), "read(1)");
    assert_eq!(
        state(&snapshot.pod_monitors),
        "read(0)",
        "the CRD is installed"
    );
    assert_eq!(state(&snapshot.certificates), "read(1)");
    assert_eq!(state(&snapshot.rollouts), "not_installed");
    // Velero's objects live in its own namespace and are read there.
    let schedules = snapshot.velero_schedules.items().unwrap();
    assert_eq!(schedules[0]["metadata"]["namespace"], "velero");
    assert_eq!(
        schedules[0]["spec"]["template"]["includedNamespaces"],
        json!(["shop", "payments"])
    );
    assert_eq!(state(&snapshot.velero_backups), "read(1)");

    // Every Pod of the cluster runs in shop or payments: no other tenant loads the nodes.
    assert_eq!(state(&snapshot.node_loads), "read(0)");

    let events = events.into_inner().unwrap();
    assert_eq!(
        events.len(),
        23,
        "one progress event per kind, and one for node usage"
    );
    assert_eq!(
        events.iter().map(|e| e.done).collect::<Vec<_>>(),
        (1..=23).collect::<Vec<_>>()
    );
    assert!(events.iter().all(|e| e.total == 23));
    let rollouts = events.iter().find(|e| e.kind == "rollouts").unwrap();
    assert_eq!(rollouts.objects, None);
    assert!(events.last().unwrap().to_string().ends_with("(23/23)"));
}

/// `namespace/name` of the monitors read, sorted.
fn monitor_names(source: &Source<Value>) -> Vec<String> {
    let mut names: Vec<String> = source
        .items()
        .expect("monitors read")
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["metadata"]["namespace"].as_str().unwrap_or(""),
                m["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn monitors_in_the_monitoring_namespace_are_read_for_the_namespaces_they_watch() {
    let cluster = kube_fixture::start(fixture_cluster()).await.unwrap();
    // A few namespaces (listed one by one), many (listed cluster-wide and filtered), all: the
    // monitors are listed in every namespace and kept when their namespaceSelector reaches
    // one of the application's namespaces.
    let payments = read(
        &cluster.url,
        &["payments".to_string()],
        ReadOptions::default(),
    )
    .await;
    assert_eq!(
        monitor_names(&payments.service_monitors),
        ["monitoring/payments-ledger"]
    );
    let shop = read(&cluster.url, &["shop".to_string()], ReadOptions::default()).await;
    assert_eq!(monitor_names(&shop.service_monitors), ["shop/cart"]);
    let mut many: Vec<String> = (1..=9).map(|i| format!("team-{i}")).collect();
    many.push("payments".to_string());
    let wide = read(&cluster.url, &many, ReadOptions::default()).await;
    assert_eq!(wide.service_monitors, payments.service_monitors);
    let everything = read(&cluster.url, &[], ReadOptions::default()).await;
    assert_eq!(
        monitor_names(&everything.service_monitors),
        [
            "monitoring/payments-ledger",
            "monitoring/prometheus",
            "shop/cart"
        ]
    );

    // The engine takes it from there: ledger is scraped through the monitoring namespace's
    // ServiceMonitor, and only the missing alert rule is left to fix.
    let results = checks::engine::evaluate(
        &payments,
        &[(CheckId::MetricsAlerts, Params::default())],
        chrono::Utc::now(),
    );
    let ledger = results
        .iter()
        .find(|r| r.subject.name == "ledger")
        .expect("a metrics result for ledger");
    assert_eq!(
        ledger.evidence.values["scraped_by"],
        json!(["ServiceMonitor monitoring/payments-ledger (Service ledger)"]),
        "{ledger:?}"
    );
    assert!(
        ledger
            .evidence
            .objects
            .iter()
            .any(|o| o.kind == "ServiceMonitor"
                && o.namespace.as_deref() == Some("monitoring")
                && o.name == "payments-ledger"
                && o.resource_version.as_deref() == Some("46610")),
        "{:?}",
        ledger.evidence.objects
    );
    assert_eq!(ledger.outcome, Outcome::Fail, "{}", ledger.message);
    assert!(
        !ledger.message.contains("no ServiceMonitor selects"),
        "{}",
        ledger.message
    );
    assert!(
        ledger
            .message
            .contains("no PrometheusRule in namespace payments defines an alert"),
        "{}",
        ledger.message
    );
}

/// What the node loads add up to: (Pods, millicores).
fn load_totals(snapshot: &Snapshot) -> (i64, i64) {
    let loads = snapshot.node_loads.items().expect("node loads read");
    (
        loads.iter().map(|l| l.pods).sum(),
        loads.iter().map(|l| l.cpu_millis).sum(),
    )
}

#[tokio::test]
async fn the_pods_of_other_namespaces_count_as_node_usage() {
    let cluster = kube_fixture::start(fixture_cluster()).await.unwrap();
    let everything = read(&cluster.url, &[], ReadOptions::default()).await;
    let payments: Vec<_> = everything
        .pods
        .items()
        .unwrap()
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some("payments"))
        .collect();
    assert!(!payments.is_empty(), "the fixture has other tenants");
    let cpu: i64 = payments
        .iter()
        .map(|p| checks::engine::quantity::pod_requests(p).cpu_millis)
        .sum();

    // A few namespaces: their own lists, and one cluster-wide Pod list added up per node.
    let requests_before = cluster.requests();
    let shop = read(&cluster.url, &["shop".to_string()], ReadOptions::default()).await;
    assert_eq!(state(&shop.pods), "read(4)");
    assert_eq!(load_totals(&shop), (payments.len() as i64, cpu));
    let per_namespace_requests = cluster.requests() - requests_before;

    // Many namespaces: the cluster-wide Pod list the reader makes anyway gives the same loads.
    let mut many: Vec<String> = (1..=9).map(|i| format!("team-{i}")).collect();
    many.push("shop".to_string());
    let wide = read(&cluster.url, &many, ReadOptions::default()).await;
    assert_eq!(load_totals(&wide), (payments.len() as i64, cpu));
    assert_eq!(wide.node_loads, shop.node_loads);
    assert!(
        per_namespace_requests > 23,
        "the loads cost one list of their own"
    );

    // Without the right to list Pods cluster-wide, the loads say why; the rest is read.
    let limited = kube_fixture::start(fixture_cluster().deny("", "pods", Some("kube-system")))
        .await
        .unwrap();
    let shop = read(&limited.url, &["shop".to_string()], ReadOptions::default()).await;
    assert_eq!(state(&shop.node_loads), "forbidden");
    assert_eq!(
        state(&shop.pods),
        "read(4)",
        "shop's own Pods are still readable"
    );
}

#[tokio::test]
async fn many_namespaces_are_listed_cluster_wide_and_filtered() {
    let cluster = kube_fixture::start(fixture_cluster()).await.unwrap();
    let mut namespaces: Vec<String> = (1..=9).map(|i| format!("team-{i}")).collect();
    namespaces.push("shop".to_string());
    let requests_before = cluster.requests();
    let snapshot = read(&cluster.url, &namespaces, ReadOptions::default()).await;
    assert_eq!(state(&snapshot.pods), "read(4)", "shop's pods only");
    assert_eq!(names(snapshot.namespace_objects.items().unwrap()), ["shop"]);
    assert_eq!(
        state(&snapshot.stateful_sets),
        "read(0)",
        "payments is not asked for"
    );
    // One request per kind (and /version), not one per namespace.
    assert_eq!(cluster.requests() - requests_before, 23);

    let everything = read(&cluster.url, &[], ReadOptions::default()).await;
    assert_eq!(state(&everything.pods), "read(6)");
    assert_eq!(state(&everything.namespace_objects), "read(4)");
    assert_eq!(
        state(&everything.node_loads),
        "read(0)",
        "no namespace is someone else's"
    );
}

#[tokio::test]
async fn a_forbidden_kind_is_recorded_as_forbidden_not_as_a_failure() {
    let cluster = kube_fixture::start(fixture_cluster().deny("", "pods", Some("shop")).deny(
        "monitoring.coreos.com",
        "servicemonitors",
        None,
    ))
    .await
    .unwrap();
    let snapshot = read(&cluster.url, &shop_and_payments(), ReadOptions::default()).await;
    match &snapshot.pods {
        Source::Forbidden(message) => {
            assert!(
                message.contains("cannot list resource \"pods\""),
                "{message}"
            );
            assert!(message.contains("\"shop\""), "{message}");
        }
        other => panic!("expected forbidden pods, got {}", state(other)),
    }
    assert_eq!(state(&snapshot.service_monitors), "forbidden");
    assert_eq!(
        state(&snapshot.deployments),
        "read(2)",
        "other kinds are read"
    );

    let report = cluster::test_connection(&client(&cluster.url, None))
        .await
        .unwrap();
    assert_eq!(report.server_version, FIXTURE_VERSION);
    assert_eq!(
        report.missing,
        [
            "get pods",
            "get servicemonitors.monitoring.coreos.com",
            "list pods",
            "list servicemonitors.monitoring.coreos.com",
        ]
    );
    assert!(report.unchecked.is_empty(), "{:?}", report.unchecked);
}

#[tokio::test]
async fn a_failed_access_review_lists_its_permission_as_not_checked_and_the_others_still_answer() {
    let cluster = kube_fixture::start(
        fixture_cluster()
            .deny("monitoring.coreos.com", "servicemonitors", None)
            .fail_reviews("", "pods"),
    )
    .await
    .unwrap();
    let report = cluster::test_connection(&client(&cluster.url, None))
        .await
        .expect("one failing review does not fail the whole test");
    assert_eq!(report.server_version, FIXTURE_VERSION);
    // The other reviews were still made: the denied kind is named as missing.
    assert_eq!(
        report.missing,
        [
            "get servicemonitors.monitoring.coreos.com",
            "list servicemonitors.monitoring.coreos.com",
        ]
    );
    assert_eq!(report.unchecked.len(), 2, "{:?}", report.unchecked);
    for (entry, verb) in report.unchecked.iter().zip(["get", "list"]) {
        assert!(
            entry.starts_with(&format!("{verb} pods: could not be checked: "))
                && entry.contains("authorizer webhook is unavailable"),
            "{entry}"
        );
    }
    assert!(!report.all_granted());
    cluster.shutdown().await;
}

#[tokio::test]
async fn custom_kinds_without_their_crd_read_as_not_installed() {
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}},
    });
    let cluster = kube_fixture::start(kube_fixture::Config::new().objects([deployment]))
        .await
        .unwrap();
    let snapshot = read(&cluster.url, &["shop".to_string()], ReadOptions::default()).await;
    assert_eq!(state(&snapshot.deployments), "read(1)");
    for (kind, source) in [
        ("service monitors", &snapshot.service_monitors),
        ("pod monitors", &snapshot.pod_monitors),
        ("prometheus rules", &snapshot.prometheus_rules),
        ("velero schedules", &snapshot.velero_schedules),
        ("velero backups", &snapshot.velero_backups),
        ("certificates", &snapshot.certificates),
        ("rollouts", &snapshot.rollouts),
    ] {
        assert_eq!(state(source), "not_installed", "{kind}");
    }
    assert_eq!(
        state(&snapshot.namespace_objects),
        "read(1)",
        "a namespace that objects live in exists"
    );
}

#[tokio::test]
async fn a_cluster_that_goes_away_mid_run_gives_failed_sources_quickly() {
    for failure in [Failure::DropAfter(6), Failure::HangAfter(6)] {
        let cluster = kube_fixture::start(fixture_cluster().failure(failure))
            .await
            .unwrap();
        let started = Instant::now();
        let snapshot = read(
            &cluster.url,
            &shop_and_payments(),
            ReadOptions {
                request_timeout: Duration::from_secs(1),
                ..ReadOptions::default()
            },
        )
        .await;
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(5),
            "{failure:?}: the reader gave up in {elapsed:?}"
        );
        let sources = [
            state(&snapshot.pods),
            state(&snapshot.deployments),
            state(&snapshot.services),
            state(&snapshot.certificates),
            state(&snapshot.velero_backups),
            state(&snapshot.ingresses),
        ];
        assert!(
            sources.iter().any(|s| s == "failed"),
            "{failure:?}: {sources:?}"
        );
        let Source::Failed(message) = [
            &snapshot.velero_backups,
            &snapshot.certificates,
            &snapshot.prometheus_rules,
        ]
        .into_iter()
        .find(|s| matches!(s, Source::Failed(_)))
        .unwrap() else {
            unreachable!()
        };
        assert!(
            message.contains("not read") || message.contains("answer"),
            "{failure:?}: {message}"
        );
        assert_eq!(
            snapshot.source.unwrap().server_version.as_deref(),
            Some(FIXTURE_VERSION),
            "the version was read before the cluster went away"
        );
    }
}

#[tokio::test]
async fn the_clusterrole_manifest_grants_exactly_what_the_reader_needs() {
    let text = std::fs::read_to_string(tests::workspace_root().join("deploy/clusterrole.yaml"))
        .expect("deploy/clusterrole.yaml");
    let objects = kube_fixture::parse_objects(&text).expect("valid YAML");
    let role = objects
        .iter()
        .find(|o| o["kind"] == "ClusterRole" && o["metadata"]["name"] == "demarc-reader")
        .expect("a ClusterRole demarc-reader");
    let mut granted = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    granted.insert((
                        group.as_str().unwrap().to_string(),
                        resource.as_str().unwrap().to_string(),
                        verb.as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    let required: BTreeSet<(String, String, String)> = cluster::required_permissions()
        .into_iter()
        .flat_map(|p| {
            p.verbs
                .iter()
                .map(|v| (p.group.clone(), p.resource.clone(), v.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(granted, required);

    let binding = objects
        .iter()
        .find(|o| o["kind"] == "ClusterRoleBinding")
        .expect("an example binding");
    assert_eq!(binding["roleRef"]["name"], "demarc-reader");
    let account = objects
        .iter()
        .find(|o| o["kind"] == "ServiceAccount")
        .expect("an example service account");
    assert_eq!(binding["subjects"][0]["name"], account["metadata"]["name"]);
    assert_eq!(
        binding["subjects"][0]["namespace"],
        account["metadata"]["namespace"]
    );
}

#[tokio::test]
async fn kubectl_lists_deployments_and_pods_from_the_fixture_server() {
    let cluster = kube_fixture::start(fixture_cluster()).await.unwrap();

    let output = kubectl(&cluster.url, &["get", "deploy", "-A"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..2], ["NAMESPACE", "NAME"], "{stdout}");
    assert!(rows.iter().any(|r| r[..2] == ["shop", "cart"]), "{stdout}");
    assert!(
        rows.iter().any(|r| r[..2] == ["shop", "legacy"]),
        "{stdout}"
    );

    let output = kubectl(
        &cluster.url,
        &["get", "pods", "-n", "shop", "-l", "app=cart"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pods: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        pods,
        [
            "cart-6f9c7d8b5d-m4q9z",
            "cart-6f9c7d8b5d-t8w3d",
            "cart-6f9c7d8b5d-x7k2p"
        ],
        "{stdout}"
    );

    // Short names of custom kinds come from discovery; a kind without its CRD is unknown.
    let output = kubectl(&cluster.url, &["get", "smon", "-n", "shop", "-o", "name"]).await;
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "servicemonitor.monitoring.coreos.com/cart"
    );
    let output = kubectl(&cluster.url, &["get", "rollouts", "-A"]).await;
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("doesn't have a resource type"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `server check` against the fixture cluster through a kubeconfig (no credentials: the fixture
/// asks none unless told to), with `extra` arguments: the exit code and the JSON report.
async fn command_line(url: &str, extra: &[&str]) -> (String, Value) {
    let dir = tests::kube::TempDir::new("demarc-cli-cluster");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fixture\n  cluster: {{server: \"{url}\"}}\n\
             users:\n- name: reader\n  user: {{}}\ncontexts:\n- name: fixture\n  context: {{cluster: fixture, user: reader}}\n\
             current-context: fixture\n"
        ),
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let mut args: Vec<String> = [
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let code = format!("{:?}", server::cli::run(args).await);
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_command_line_fails_a_cluster_read_that_could_not_check_the_application() {
    let cluster = kube_fixture::start(fixture_cluster().deny("", "pods", Some("shop")))
        .await
        .unwrap();
    let ok = format!("{:?}", std::process::ExitCode::SUCCESS);
    let failed = format!("{:?}", std::process::ExitCode::from(1));

    // A misspelt namespace holds no workload: every check fails saying so, not passes.
    let (code, report) = command_line(
        &cluster.url,
        &["--namespace", "shpo", "--checks", "replicas,probes"],
    )
    .await;
    assert_eq!(code, failed, "{report}");
    let results = report["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 2, "{report}");
    for r in &results {
        assert_eq!(r["outcome"], "fail", "{r}");
        assert_eq!(r["subject"]["kind"], "Namespace", "{r}");
        assert_eq!(r["subject"]["name"], "shpo", "{r}");
        let message = r["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("No workload") && message.contains("in namespace shpo"),
            "{message}"
        );
    }

    // The Pods of shop cannot be listed: spread could not be checked, which is not a pass.
    let (code, report) =
        command_line(&cluster.url, &["--namespace", "shop", "--checks", "spread"]).await;
    assert_eq!(code, failed, "{report}");
    assert_eq!(report["summary"]["required_failures"], 0, "{report}");
    assert_eq!(report["summary"]["required_errors"], 2, "{report}");
    assert_eq!(report["summary"]["passed"], false, "{report}");
    // Not required, the same errors are reported and the run passes.
    let (code, report) = command_line(
        &cluster.url,
        &[
            "--namespace",
            "shop",
            "--checks",
            "spread",
            "--required",
            "none",
        ],
    )
    .await;
    assert_eq!(code, ok, "{report}");
    assert_eq!(report["summary"]["counts"]["error"], 2, "{report}");
    cluster.shutdown().await;
}
