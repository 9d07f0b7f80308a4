//! The cluster objects one verification looks at.
//!
//! A snapshot is filled by one of the readers (live cluster, uploaded kubectl List, manifest
//! files) and handed to [`crate::engine::evaluate`]. Each kind of object is a [`Source`]: it was
//! read, or it could not be (a CRD that is not installed, a permission the reader lacks, an
//! error), so the engine can answer "not applicable" or "error" instead of a false "fail".

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{LimitRange, Namespace, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde::{Deserialize, Serialize};

use crate::SourceInfo;

/// Objects of one kind, or why they are missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Source<T> {
    Read(Vec<T>),
    /// The kind is not served by this cluster (its CRD is not installed).
    NotInstalled,
    /// The reader may not list this kind; the text names the verb, resource and namespace.
    Forbidden(String),
    /// Reading failed for another reason (timeout, connection lost, bad answer).
    Failed(String),
}

impl<T> Default for Source<T> {
    fn default() -> Self {
        Source::Read(Vec::new())
    }
}

impl<T> Source<T> {
    /// The objects, when they were read.
    pub fn items(&self) -> Option<&[T]> {
        match self {
            Source::Read(items) => Some(items),
            _ => None,
        }
    }

    /// The objects, or an empty slice when they could not be read.
    pub fn items_or_empty(&self) -> &[T] {
        self.items().unwrap_or(&[])
    }

    pub fn push(&mut self, item: T) {
        if let Source::Read(items) = self {
            items.push(item);
        }
    }
}

/// A custom resource kept as JSON (ServiceMonitor, PodMonitor, PrometheusRule, Velero Schedule
/// and Backup, cert-manager Certificate, Argo Rollout): the engine reads the few fields it needs.
pub type Custom = serde_json::Value;

/// What the running Pods of the namespaces outside the snapshot ask of one node: the scheduler
/// counts every tenant's requests against a node's allocatable, so the drain-capacity check
/// must too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLoad {
    pub node: String,
    pub cpu_millis: i64,
    pub memory_bytes: i64,
    pub pods: i64,
}

/// The node whose capacity a Pod takes: it is scheduled there and has not finished.
pub(crate) fn occupied_node(pod: &Pod) -> Option<&str> {
    let finished = matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    );
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|_| !finished)
}

/// Node loads per namespace (see [`Snapshot::loads_by_namespace`]).
#[derive(Debug, Clone, Default)]
pub struct NamespaceLoads(std::collections::HashMap<String, Vec<NodeLoad>>);

/// Node loads being added up, Pod by Pod.
#[derive(Debug, Default)]
pub(crate) struct Loads(std::collections::BTreeMap<String, crate::engine::quantity::Resources>);

impl Loads {
    /// Counts a Pod that occupies its node (see [`occupied_node`]).
    pub(crate) fn add(&mut self, pod: &Pod) {
        if let Some(node) = occupied_node(pod) {
            let requests = crate::engine::quantity::pod_requests(pod);
            match self.0.get_mut(node) {
                Some(total) => total.add(requests),
                None => {
                    self.0.insert(node.to_owned(), requests);
                }
            }
        }
    }

    /// Adds loads counted before.
    pub(crate) fn add_loads(&mut self, loads: &[NodeLoad]) {
        for l in loads {
            let load = crate::engine::quantity::Resources {
                cpu_millis: l.cpu_millis,
                memory_bytes: l.memory_bytes,
                pods: l.pods,
            };
            // Most nodes are there already: look up before allocating a key.
            match self.0.get_mut(&l.node) {
                Some(total) => total.add(load),
                None => {
                    self.0.insert(l.node.clone(), load);
                }
            }
        }
    }

    pub(crate) fn into_vec(self) -> Vec<NodeLoad> {
        self.0
            .into_iter()
            .map(|(node, r)| NodeLoad {
                node,
                cpu_millis: r.cpu_millis,
                memory_bytes: r.memory_bytes,
                pods: r.pods,
            })
            .collect()
    }
}

/// A snapshot written before node loads were read did not count them.
fn not_counted() -> Source<NodeLoad> {
    Source::NotInstalled
}

/// Everything the checks read. Namespaced objects are limited to the application's namespaces
/// (`namespaces`); Nodes are cluster-wide.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub source: Option<SourceInfo>,
    /// The application's namespaces. Empty means "every namespace present in the objects"
    /// (manifest files, uploads).
    pub namespaces: Vec<String>,
    /// Namespace objects, when readable (labels such as pod-security.kubernetes.io/enforce).
    pub namespace_objects: Source<Namespace>,

    pub deployments: Source<Deployment>,
    pub stateful_sets: Source<StatefulSet>,
    pub daemon_sets: Source<DaemonSet>,
    pub cron_jobs: Source<CronJob>,
    pub jobs: Source<Job>,
    /// argoproj.io/v1alpha1 Rollout.
    pub rollouts: Source<Custom>,

    pub pods: Source<Pod>,
    /// Per node, what the Pods of every other namespace request (empty: nothing else runs, or
    /// the snapshot is all namespaces). A live read fills it; files cannot.
    #[serde(default = "not_counted")]
    pub node_loads: Source<NodeLoad>,
    pub nodes: Source<Node>,
    pub services: Source<Service>,
    pub service_accounts: Source<ServiceAccount>,
    pub pod_disruption_budgets: Source<PodDisruptionBudget>,
    pub horizontal_pod_autoscalers: Source<HorizontalPodAutoscaler>,
    pub network_policies: Source<NetworkPolicy>,
    pub limit_ranges: Source<LimitRange>,
    pub ingresses: Source<Ingress>,

    /// monitoring.coreos.com/v1 ServiceMonitor, PodMonitor, PrometheusRule.
    pub service_monitors: Source<Custom>,
    pub pod_monitors: Source<Custom>,
    pub prometheus_rules: Source<Custom>,
    /// velero.io/v1 Schedule and Backup (usually in the velero namespace).
    pub velero_schedules: Source<Custom>,
    pub velero_backups: Source<Custom>,
    /// cert-manager.io/v1 Certificate.
    pub certificates: Source<Custom>,
}

impl<T: Clone> Source<T> {
    /// The objects `keep` accepts; a kind that could not be read stays as it was.
    fn filtered(&self, keep: impl Fn(&T) -> bool) -> Source<T> {
        match self {
            Source::Read(items) => {
                Source::Read(items.iter().filter(|i| keep(i)).cloned().collect())
            }
            other => other.clone(),
        }
    }
}

impl Snapshot {
    /// The part of this snapshot one application sees: its namespaces' objects, with the
    /// cluster-wide kinds (Nodes) and the Velero objects (kept in Velero's own namespace, naming
    /// the namespaces they back up) whole. Verifications of several applications on one cluster
    /// share one read of the union of their namespaces and each evaluates its own part.
    pub fn narrowed_to(&self, namespaces: &[String]) -> Snapshot {
        self.narrowed_with(namespaces, &self.loads_by_namespace())
    }

    /// What the snapshot's Pods ask of each node, per namespace: computed once for a read that
    /// several applications share, so each [`Self::narrowed_with`] only adds up totals.
    pub fn loads_by_namespace(&self) -> NamespaceLoads {
        let mut by_namespace: std::collections::HashMap<String, Loads> = Default::default();
        for p in self.pods.items_or_empty() {
            if let Some(ns) = p.metadata.namespace.as_deref() {
                by_namespace.entry(ns.to_owned()).or_default().add(p);
            }
        }
        NamespaceLoads(
            by_namespace
                .into_iter()
                .map(|(ns, loads)| (ns, loads.into_vec()))
                .collect(),
        )
    }

    /// [`Self::narrowed_to`] with the per-namespace loads of this snapshot's Pods given.
    pub fn narrowed_with(&self, namespaces: &[String], loads: &NamespaceLoads) -> Snapshot {
        use std::collections::BTreeSet;

        use k8s_openapi::Metadata;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

        let wanted: BTreeSet<&str> = namespaces.iter().map(String::as_str).collect();
        let inside = |meta: &ObjectMeta| {
            meta.namespace
                .as_deref()
                .is_some_and(|ns| wanted.contains(ns))
        };
        fn typed<T: Clone + Metadata<Ty = ObjectMeta>>(
            source: &Source<T>,
            inside: &impl Fn(&ObjectMeta) -> bool,
        ) -> Source<T> {
            source.filtered(|o| inside(o.metadata()))
        }
        let custom = |source: &Source<Custom>| {
            source.filtered(|o| {
                o.pointer("/metadata/namespace")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|ns| wanted.contains(ns))
            })
        };
        Snapshot {
            source: self.source.clone(),
            namespaces: namespaces.to_vec(),
            namespace_objects: self.namespace_objects.filtered(|n| {
                n.metadata
                    .name
                    .as_deref()
                    .is_some_and(|name| wanted.contains(name))
            }),
            deployments: typed(&self.deployments, &inside),
            stateful_sets: typed(&self.stateful_sets, &inside),
            daemon_sets: typed(&self.daemon_sets, &inside),
            cron_jobs: typed(&self.cron_jobs, &inside),
            jobs: typed(&self.jobs, &inside),
            rollouts: custom(&self.rollouts),
            pods: typed(&self.pods, &inside),
            // The other applications of a shared read are other tenants of the nodes.
            node_loads: match &self.node_loads {
                Source::Read(outside) => {
                    let mut total = Loads::default();
                    total.add_loads(outside);
                    for (ns, of_namespace) in &loads.0 {
                        if !wanted.contains(ns.as_str()) {
                            total.add_loads(of_namespace);
                        }
                    }
                    Source::Read(total.into_vec())
                }
                other => other.clone(),
            },
            nodes: self.nodes.clone(),
            services: typed(&self.services, &inside),
            service_accounts: typed(&self.service_accounts, &inside),
            pod_disruption_budgets: typed(&self.pod_disruption_budgets, &inside),
            horizontal_pod_autoscalers: typed(&self.horizontal_pod_autoscalers, &inside),
            network_policies: typed(&self.network_policies, &inside),
            limit_ranges: typed(&self.limit_ranges, &inside),
            ingresses: typed(&self.ingresses, &inside),
            // Monitors in other namespaces (monitoring) count when they watch these ones.
            service_monitors: self
                .service_monitors
                .filtered(|o| crate::engine::monitor_watches(o, |ns| wanted.contains(ns))),
            pod_monitors: self
                .pod_monitors
                .filtered(|o| crate::engine::monitor_watches(o, |ns| wanted.contains(ns))),
            prometheus_rules: custom(&self.prometheus_rules),
            velero_schedules: self.velero_schedules.clone(),
            velero_backups: self.velero_backups.clone(),
            certificates: custom(&self.certificates),
        }
    }
}
