//! The live cluster reader: connects to a cluster ([`client`]), checks that the account may
//! read what Demarc needs ([`test_connection`]) and reads a [`Snapshot`](crate::snapshot::Snapshot)
//! through the kube client ([`read_snapshot`]).
//!
//! Reading turns every problem into an explicit [`Source`](crate::snapshot::Source) state, never
//! into a failed check: a CRD that is not installed (404) is `NotInstalled`, a permission the
//! account lacks (403) is `Forbidden` with the API server's message (verb, resource, namespace),
//! and anything else (timeouts, a cluster that went away, a bad answer) is `Failed`. Lists are
//! paged; each request has a timeout; a few kinds are read at a time; once the cluster stops
//! answering, the kinds not read yet fail at once instead of waiting their turn to time out.

mod connection;
mod permissions;
mod read;
mod version;

pub use connection::{ClusterError, ConnectionSpec, client, stored_connection_problem};
pub use permissions::{ConnectionReport, Permission, required_permissions, test_connection};
pub use read::{Progress, ReadOptions, read_snapshot, read_snapshot_with};
pub use version::parse_server_version;

/// One kind of object the reader lists, with where it is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KindSpec {
    /// The snapshot field's subject in progress messages (`pods`).
    pub label: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub scope: Scope,
    /// The snapshot field it fills.
    pub field: Field,
}

/// The snapshot's fields, one per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Pods,
    Nodes,
    Namespaces,
    Deployments,
    StatefulSets,
    DaemonSets,
    CronJobs,
    Jobs,
    Services,
    ServiceAccounts,
    PodDisruptionBudgets,
    HorizontalPodAutoscalers,
    NetworkPolicies,
    LimitRanges,
    Ingresses,
    Rollouts,
    ServiceMonitors,
    PodMonitors,
    PrometheusRules,
    VeleroSchedules,
    VeleroBackups,
    Certificates,
    /// What other namespaces' Pods ask of each node (from a cluster-wide Pod list).
    NodeLoads,
}

/// How a kind is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Cluster-scoped (Nodes, Namespaces).
    Cluster,
    /// Namespaced, limited to the application's namespaces.
    Namespaced,
    /// Namespaced, but read in every namespace: Velero keeps its Schedules and Backups in its
    /// own namespace and names the application's namespaces inside them.
    AllNamespaces,
    /// Namespaced, read in every namespace and kept when they watch one of the application's
    /// namespaces: Prometheus operator ServiceMonitors and PodMonitors often live in the
    /// monitoring namespace and name the namespaces they scrape (spec.namespaceSelector).
    Watching,
}

impl KindSpec {
    /// `pods`, `deployments.apps`, `servicemonitors.monitoring.coreos.com`.
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The URL path of a list, cluster-wide or in one namespace.
    pub fn list_path(&self, namespace: Option<&str>) -> String {
        let prefix = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) => format!("{prefix}/namespaces/{ns}/{}", self.plural),
            None => format!("{prefix}/{}", self.plural),
        }
    }
}

const fn kind(
    label: &'static str,
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    scope: Scope,
    field: Field,
) -> KindSpec {
    KindSpec {
        label,
        group,
        version,
        plural,
        scope,
        field,
    }
}

/// The requests of the Pods outside the application's namespaces, per node: a cluster-wide
/// Pod list, added up page by page (not one of [`KINDS`]: its objects are not kept, and the
/// permission it needs, list pods, is already there).
pub(crate) const NODE_LOADS: KindSpec = kind(
    "pods of other namespaces (node usage)",
    "",
    "v1",
    "pods",
    Scope::AllNamespaces,
    Field::NodeLoads,
);

/// Every kind the snapshot holds, in reading order (the big lists first, so they overlap with
/// the many small ones).
pub(crate) const KINDS: [KindSpec; 22] = [
    kind("pods", "", "v1", "pods", Scope::Namespaced, Field::Pods),
    kind("nodes", "", "v1", "nodes", Scope::Cluster, Field::Nodes),
    kind(
        "namespaces",
        "",
        "v1",
        "namespaces",
        Scope::Cluster,
        Field::Namespaces,
    ),
    kind(
        "deployments",
        "apps",
        "v1",
        "deployments",
        Scope::Namespaced,
        Field::Deployments,
    ),
    kind(
        "stateful sets",
        "apps",
        "v1",
        "statefulsets",
        Scope::Namespaced,
        Field::StatefulSets,
    ),
    kind(
        "daemon sets",
        "apps",
        "v1",
        "daemonsets",
        Scope::Namespaced,
        Field::DaemonSets,
    ),
    kind(
        "cron jobs",
        "batch",
        "v1",
        "cronjobs",
        Scope::Namespaced,
        Field::CronJobs,
    ),
    kind(
        "jobs",
        "batch",
        "v1",
        "jobs",
        Scope::Namespaced,
        Field::Jobs,
    ),
    kind(
        "services",
        "",
        "v1",
        "services",
        Scope::Namespaced,
        Field::Services,
    ),
    kind(
        "service accounts",
        "",
        "v1",
        "serviceaccounts",
        Scope::Namespaced,
        Field::ServiceAccounts,
    ),
    kind(
        "pod disruption budgets",
        "policy",
        "v1",
        "poddisruptionbudgets",
        Scope::Namespaced,
        Field::PodDisruptionBudgets,
    ),
    kind(
        "horizontal pod autoscalers",
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        Scope::Namespaced,
        Field::HorizontalPodAutoscalers,
    ),
    kind(
        "network policies",
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        Scope::Namespaced,
        Field::NetworkPolicies,
    ),
    kind(
        "limit ranges",
        "",
        "v1",
        "limitranges",
        Scope::Namespaced,
        Field::LimitRanges,
    ),
    kind(
        "ingresses",
        "networking.k8s.io",
        "v1",
        "ingresses",
        Scope::Namespaced,
        Field::Ingresses,
    ),
    kind(
        "rollouts",
        "argoproj.io",
        "v1alpha1",
        "rollouts",
        Scope::Namespaced,
        Field::Rollouts,
    ),
    kind(
        "service monitors",
        "monitoring.coreos.com",
        "v1",
        "servicemonitors",
        Scope::Watching,
        Field::ServiceMonitors,
    ),
    kind(
        "pod monitors",
        "monitoring.coreos.com",
        "v1",
        "podmonitors",
        Scope::Watching,
        Field::PodMonitors,
    ),
    kind(
        "prometheus rules",
        "monitoring.coreos.com",
        "v1",
        "prometheusrules",
        Scope::Namespaced,
        Field::PrometheusRules,
    ),
    kind(
        "velero schedules",
        "velero.io",
        "v1",
        "schedules",
        Scope::AllNamespaces,
        Field::VeleroSchedules,
    ),
    kind(
        "velero backups",
        "velero.io",
        "v1",
        "backups",
        Scope::AllNamespaces,
        Field::VeleroBackups,
    ),
    kind(
        "certificates",
        "cert-manager.io",
        "v1",
        "certificates",
        Scope::Namespaced,
        Field::Certificates,
    ),
];
