//! Reading a snapshot: every kind concurrently (a few at a time), paged, with a timeout per
//! request.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{LimitRange, Namespace, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Resource;
use kube::api::{ListParams, ObjectList};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Field, KINDS, KindSpec, NODE_LOADS, Scope};
use crate::SourceInfo;
use crate::snapshot::{Custom, Loads, NodeLoad, Snapshot, Source};

/// How the reader reads.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The cluster's name in Demarc (the environment), recorded in the snapshot's source.
    pub cluster_name: String,
    /// Objects per list request (the API server's `limit`).
    pub page_size: u32,
    /// How long one request may take before its kind is given up as failed.
    pub request_timeout: Duration,
    /// How many kinds are read at the same time.
    pub concurrency: usize,
    /// Up to this many namespaces are listed one by one; with more (or none, meaning all),
    /// each kind is listed cluster-wide once and filtered here.
    pub per_namespace_limit: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            cluster_name: "cluster".to_string(),
            page_size: 500,
            request_timeout: Duration::from_secs(15),
            concurrency: 4,
            per_namespace_limit: 8,
        }
    }
}

/// One kind was read (or given up), for a progress display: "reading pods (3/22)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The kind, in words (`pods`, `pod disruption budgets`).
    pub kind: &'static str,
    /// Kinds finished so far, this one included.
    pub done: usize,
    pub total: usize,
    /// How many objects were read, or `None` when the kind could not be read.
    pub objects: Option<usize>,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "read {} ({}/{})", self.kind, self.done, self.total)
    }
}

/// Reads a snapshot with the default [`ReadOptions`]. `namespaces` are the application's
/// namespaces; empty means every namespace.
pub async fn read_snapshot(
    client: &kube::Client,
    namespaces: &[String],
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Snapshot {
    read_snapshot_with(client, namespaces, &ReadOptions::default(), progress).await
}

/// Reads every kind of the snapshot. Never fails: what could not be read is recorded in its
/// [`Source`], and the snapshot's `source` names the cluster and its version.
#[tracing::instrument(skip_all, fields(cluster = %options.cluster_name, namespaces = namespaces.len()))]
pub async fn read_snapshot_with(
    client: &kube::Client,
    namespaces: &[String],
    options: &ReadOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Snapshot {
    let read_at = chrono::Utc::now();
    let wanted: BTreeSet<String> = namespaces.iter().cloned().collect();
    let plan = if wanted.is_empty() {
        Plan::All
    } else if wanted.len() <= options.per_namespace_limit {
        Plan::PerNamespace(wanted.iter().cloned().collect())
    } else {
        Plan::Filter(wanted)
    };
    let context = Arc::new(Context {
        client: client.clone(),
        plan,
        options: options.clone(),
        gone: Mutex::new(None),
    });

    let server_version =
        match tokio::time::timeout(options.request_timeout, client.apiserver_version()).await {
            Ok(Ok(info)) => Some(info.git_version),
            Ok(Err(error)) => {
                if is_transport(&error) {
                    context.give_up(format!("the cluster does not answer: {error}"));
                }
                None
            }
            Err(_) => {
                context.give_up(format!(
                    "the cluster did not answer /version within {} s",
                    options.request_timeout.as_secs()
                ));
                None
            }
        };

    let mut snapshot = Snapshot {
        source: Some(SourceInfo {
            kind: "cluster".to_string(),
            name: options.cluster_name.clone(),
            server_version,
            server: None,
            read_at,
        }),
        namespaces: namespaces.to_vec(),
        ..Snapshot::default()
    };
    // A kind whose task dies stays visibly unread rather than empty.
    let specs = KINDS.into_iter().chain([NODE_LOADS]);
    for spec in specs.clone() {
        set_failed(
            &mut snapshot,
            spec.field,
            "not read: the reader stopped early".to_string(),
        );
    }

    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for spec in specs {
        let context = context.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            read_into(context, spec).await
        });
    }
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        done += 1;
        let Ok((spec, objects, assign)) = joined else {
            continue;
        };
        assign(&mut snapshot);
        tracing::debug!(kind = spec.label, ?objects, "read");
        progress(Progress {
            kind: spec.label,
            done,
            total: KINDS.len() + 1,
            objects,
        });
    }
    snapshot
}

enum Plan {
    /// Every namespace: cluster-wide lists, nothing filtered.
    All,
    /// A few namespaces, listed one by one.
    PerNamespace(Vec<String>),
    /// Many namespaces: cluster-wide lists, filtered here.
    Filter(BTreeSet<String>),
}

struct Context {
    client: kube::Client,
    plan: Plan,
    options: ReadOptions,
    /// Set when the cluster stopped answering: the kinds not read yet fail at once.
    gone: Mutex<Option<String>>,
}

impl Context {
    fn give_up(&self, reason: String) {
        let mut gone = self.gone.lock().unwrap_or_else(|e| e.into_inner());
        if gone.is_none() {
            *gone = Some(reason);
        }
    }

    fn gone(&self) -> Option<String> {
        self.gone.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

type Assign = Box<dyn FnOnce(&mut Snapshot) + Send>;

/// Reads one kind and returns how to store it in the snapshot.
async fn read_into(context: Arc<Context>, spec: KindSpec) -> (KindSpec, Option<usize>, Assign) {
    macro_rules! typed {
        ($field:ident, $ty:ty) => {{
            let keep: fn(&$ty, &BTreeSet<String>) -> bool = if spec.field == Field::Namespaces {
                |o, wanted| name_of::<$ty>(o).is_some_and(|n| wanted.contains(n))
            } else {
                |o, wanted| namespace_of::<$ty>(o).is_some_and(|ns| wanted.contains(ns))
            };
            let source = read_kind::<$ty>(&context, &spec, keep).await;
            let count = source.items().map(<[_]>::len);
            (
                spec,
                count,
                Box::new(move |s: &mut Snapshot| s.$field = source) as Assign,
            )
        }};
    }
    macro_rules! custom {
        ($field:ident) => {{
            let keep: fn(&Custom, &BTreeSet<String>) -> bool = if spec.scope == Scope::Watching {
                |o, wanted| crate::engine::monitor_watches(o, |ns| wanted.contains(ns))
            } else {
                |o, wanted| custom_namespace_of(o).is_some_and(|ns| wanted.contains(ns))
            };
            let source = read_kind::<Custom>(&context, &spec, keep).await;
            let count = source.items().map(<[_]>::len);
            (
                spec,
                count,
                Box::new(move |s: &mut Snapshot| s.$field = source) as Assign,
            )
        }};
    }
    match spec.field {
        Field::Pods if matches!(context.plan, Plan::Filter(_)) => {
            // The cluster-wide list has every tenant's Pods: the application's are kept, the
            // others added up into node loads, so the loads need no second list.
            let (pods, loads) = read_pods_and_loads(&context, &spec).await;
            let count = pods.items().map(<[_]>::len);
            let assign = move |s: &mut Snapshot| {
                s.pods = pods;
                s.node_loads = loads;
            };
            (spec, count, Box::new(assign) as Assign)
        }
        Field::Pods => typed!(pods, Pod),
        Field::NodeLoads => {
            let loads = match &context.plan {
                // Every namespace is the application's: no other tenant.
                Plan::All => Some(Source::Read(Vec::new())),
                // Counted while listing the Pods (above).
                Plan::Filter(_) => None,
                Plan::PerNamespace(own) => {
                    let own: BTreeSet<&str> = own.iter().map(String::as_str).collect();
                    let mut loads = Loads::default();
                    let listed = for_each_page::<Pod>(&context, &spec, None, |page| {
                        for p in page
                            .iter()
                            .filter(|p| !namespace_of(*p).is_some_and(|ns| own.contains(ns)))
                        {
                            loads.add(p);
                        }
                    })
                    .await;
                    // The application's own kinds do not depend on this list: a slow or lost
                    // answer only makes the loads unknown, it does not end the whole read.
                    Some(match listed {
                        Ok(()) => Source::Read(loads.into_vec()),
                        Err(Problem::Timeout) => Source::Failed(format!(
                            "listing pods in all namespaces got no answer within {} s",
                            context.options.request_timeout.as_secs()
                        )),
                        Err(Problem::Kube(error)) if is_transport(&error) => Source::Failed(
                            format!("listing pods in all namespaces failed: {error}"),
                        ),
                        Err(problem) => classify(&context, &spec, None, problem),
                    })
                }
            };
            let count = loads
                .as_ref()
                .map_or(Some(0), |l| l.items().map(<[_]>::len));
            let assign = move |s: &mut Snapshot| {
                if let Some(loads) = loads {
                    s.node_loads = loads;
                }
            };
            (spec, count, Box::new(assign) as Assign)
        }
        Field::Nodes => typed!(nodes, Node),
        Field::Namespaces => typed!(namespace_objects, Namespace),
        Field::Deployments => typed!(deployments, Deployment),
        Field::StatefulSets => typed!(stateful_sets, StatefulSet),
        Field::DaemonSets => typed!(daemon_sets, DaemonSet),
        Field::CronJobs => typed!(cron_jobs, CronJob),
        Field::Jobs => typed!(jobs, Job),
        Field::Services => typed!(services, Service),
        Field::ServiceAccounts => typed!(service_accounts, ServiceAccount),
        Field::PodDisruptionBudgets => typed!(pod_disruption_budgets, PodDisruptionBudget),
        Field::HorizontalPodAutoscalers => {
            typed!(horizontal_pod_autoscalers, HorizontalPodAutoscaler)
        }
        Field::NetworkPolicies => typed!(network_policies, NetworkPolicy),
        Field::LimitRanges => typed!(limit_ranges, LimitRange),
        Field::Ingresses => typed!(ingresses, Ingress),
        Field::Rollouts => custom!(rollouts),
        Field::ServiceMonitors => custom!(service_monitors),
        Field::PodMonitors => custom!(pod_monitors),
        Field::PrometheusRules => custom!(prometheus_rules),
        Field::VeleroSchedules => custom!(velero_schedules),
        Field::VeleroBackups => custom!(velero_backups),
        Field::Certificates => custom!(certificates),
    }
}

fn namespace_of<K: Resource>(object: &K) -> Option<&str> {
    object.meta().namespace.as_deref()
}

fn name_of<K: Resource>(object: &K) -> Option<&str> {
    object.meta().name.as_deref()
}

fn custom_namespace_of(object: &Custom) -> Option<&str> {
    object
        .pointer("/metadata/namespace")
        .and_then(serde_json::Value::as_str)
}

fn set_failed(snapshot: &mut Snapshot, field: Field, message: String) {
    let s = snapshot;
    match field {
        Field::Pods => s.pods = Source::Failed(message),
        Field::Nodes => s.nodes = Source::Failed(message),
        Field::Namespaces => s.namespace_objects = Source::Failed(message),
        Field::Deployments => s.deployments = Source::Failed(message),
        Field::StatefulSets => s.stateful_sets = Source::Failed(message),
        Field::DaemonSets => s.daemon_sets = Source::Failed(message),
        Field::CronJobs => s.cron_jobs = Source::Failed(message),
        Field::Jobs => s.jobs = Source::Failed(message),
        Field::Services => s.services = Source::Failed(message),
        Field::ServiceAccounts => s.service_accounts = Source::Failed(message),
        Field::PodDisruptionBudgets => s.pod_disruption_budgets = Source::Failed(message),
        Field::HorizontalPodAutoscalers => s.horizontal_pod_autoscalers = Source::Failed(message),
        Field::NetworkPolicies => s.network_policies = Source::Failed(message),
        Field::LimitRanges => s.limit_ranges = Source::Failed(message),
        Field::Ingresses => s.ingresses = Source::Failed(message),
        Field::Rollouts => s.rollouts = Source::Failed(message),
        Field::ServiceMonitors => s.service_monitors = Source::Failed(message),
        Field::PodMonitors => s.pod_monitors = Source::Failed(message),
        Field::PrometheusRules => s.prometheus_rules = Source::Failed(message),
        Field::VeleroSchedules => s.velero_schedules = Source::Failed(message),
        Field::VeleroBackups => s.velero_backups = Source::Failed(message),
        Field::Certificates => s.certificates = Source::Failed(message),
        Field::NodeLoads => s.node_loads = Source::Failed(message),
    }
}

/// Why a list stopped.
enum Problem {
    Kube(kube::Error),
    Timeout,
    /// The cluster had already stopped answering another request.
    Gone(String),
}

/// Lists one kind according to the plan, keeping the objects `keep` accepts for the wanted
/// namespaces (those in them, a Namespace of that name, a monitor watching one of them).
async fn read_kind<T>(
    context: &Context,
    spec: &KindSpec,
    keep: fn(&T, &BTreeSet<String>) -> bool,
) -> Source<T>
where
    T: DeserializeOwned + Clone,
{
    let targets: Vec<Option<&str>> = match (&context.plan, spec.scope) {
        (Plan::PerNamespace(namespaces), Scope::Namespaced) => {
            namespaces.iter().map(|n| Some(n.as_str())).collect()
        }
        _ => vec![None],
    };
    let mut items = Vec::new();
    for namespace in targets {
        match list_pages::<T>(context, spec, namespace).await {
            Ok(mut page) => items.append(&mut page),
            Err(problem) => return classify(context, spec, namespace, problem),
        }
    }
    let filter = match (&context.plan, spec.scope, spec.field) {
        (Plan::All, _, _) | (_, Scope::AllNamespaces, _) => None,
        (Plan::PerNamespace(_), Scope::Namespaced, _) => None,
        (_, Scope::Cluster, f) if f != Field::Namespaces => None,
        (Plan::PerNamespace(namespaces), _, _) => Some(namespaces.iter().cloned().collect()),
        (Plan::Filter(namespaces), _, _) => Some(namespaces.clone()),
    };
    if let Some(wanted) = filter {
        let wanted: BTreeSet<String> = wanted;
        items.retain(|item| keep(item, &wanted));
    }
    Source::Read(items)
}

/// The Pods of the wanted namespaces from a cluster-wide list, and the node loads of the rest.
async fn read_pods_and_loads(
    context: &Context,
    spec: &KindSpec,
) -> (Source<Pod>, Source<NodeLoad>) {
    let Plan::Filter(wanted) = &context.plan else {
        unreachable!("only for cluster-wide lists");
    };
    let mut own = Vec::new();
    let mut loads = Loads::default();
    let listed = for_each_page::<Pod>(context, spec, None, |page| {
        for p in page {
            if namespace_of(&p).is_some_and(|ns| wanted.contains(ns)) {
                own.push(p);
            } else {
                loads.add(&p);
            }
        }
    })
    .await;
    match listed {
        Ok(()) => (Source::Read(own), Source::Read(loads.into_vec())),
        Err(problem) => {
            let failed: Source<Pod> = classify(context, spec, None, problem);
            let loads = match &failed {
                Source::Forbidden(m) => Source::Forbidden(m.clone()),
                Source::Failed(m) => Source::Failed(m.clone()),
                _ => Source::NotInstalled,
            };
            (failed, loads)
        }
    }
}

async fn list_pages<T>(
    context: &Context,
    spec: &KindSpec,
    namespace: Option<&str>,
) -> Result<Vec<T>, Problem>
where
    T: DeserializeOwned + Clone,
{
    let mut items = Vec::new();
    for_each_page(context, spec, namespace, |mut page| items.append(&mut page)).await?;
    Ok(items)
}

/// Lists one kind page by page, handing each page to `each` (so a cluster-wide list that is
/// only added up never sits in memory whole).
async fn for_each_page<T>(
    context: &Context,
    spec: &KindSpec,
    namespace: Option<&str>,
    mut each: impl FnMut(Vec<T>),
) -> Result<(), Problem>
where
    T: DeserializeOwned + Clone,
{
    let path = spec.list_path(namespace);
    let mut params = ListParams::default().limit(context.options.page_size);
    loop {
        if let Some(reason) = context.gone() {
            return Err(Problem::Gone(reason));
        }
        let request = kube::core::Request::new(&path)
            .list(&params)
            .map_err(|e| Problem::Kube(kube::Error::BuildRequest(e)))?;
        let page: ObjectList<T> = match tokio::time::timeout(
            context.options.request_timeout,
            context.client.request(request),
        )
        .await
        {
            Err(_) => return Err(Problem::Timeout),
            Ok(Err(error)) => return Err(Problem::Kube(error)),
            Ok(Ok(page)) => page,
        };
        each(page.items);
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return Ok(()),
        }
    }
}

/// Connection-level failures: the cluster (or the network to it) is gone.
fn is_transport(error: &kube::Error) -> bool {
    matches!(error, kube::Error::HyperError(_) | kube::Error::Service(_))
}

fn classify<T>(
    context: &Context,
    spec: &KindSpec,
    namespace: Option<&str>,
    problem: Problem,
) -> Source<T> {
    let resource = spec.resource_name();
    let place = match (namespace, spec.scope) {
        (Some(ns), _) => format!(" in namespace \"{ns}\""),
        (None, Scope::Cluster) => String::new(),
        (None, _) => " in all namespaces".to_string(),
    };
    match problem {
        Problem::Gone(reason) => Source::Failed(format!("{resource} not read: {reason}")),
        Problem::Timeout => {
            let message = format!(
                "listing {resource}{place} got no answer within {} s",
                context.options.request_timeout.as_secs()
            );
            context.give_up(message.clone());
            Source::Failed(message)
        }
        Problem::Kube(kube::Error::Api(status)) => match status.code {
            404 => Source::NotInstalled,
            403 => Source::Forbidden(if status.message.is_empty() {
                format!("list {resource}{place} is forbidden")
            } else {
                status.message.clone()
            }),
            401 => Source::Failed(format!(
                "listing {resource}{place}: the cluster refused the credentials (401 Unauthorized)"
            )),
            code => Source::Failed(format!(
                "listing {resource}{place} failed: {code} {}: {}",
                status.reason, status.message
            )),
        },
        Problem::Kube(error) if is_transport(&error) => {
            let message =
                format!("listing {resource}{place} failed: the cluster does not answer ({error})");
            context.give_up(message.clone());
            Source::Failed(message)
        }
        Problem::Kube(kube::Error::SerdeError(error)) => Source::Failed(format!(
            "listing {resource}{place}: the answer could not be read ({error})"
        )),
        Problem::Kube(error) => {
            Source::Failed(format!("listing {resource}{place} failed: {error}"))
        }
    }
}
