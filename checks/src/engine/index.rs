//! The snapshot indexed once per evaluation: objects by namespace, Pods by label, HPAs by
//! target, monitors by the namespaces they watch, node usage. Lookups per workload then touch
//! only its own namespace.

use std::collections::HashMap;
use std::sync::OnceLock;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{LimitRange, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value;

use super::quantity::{Resources, pod_requests};
use super::{Workload, WorkloadKind, jstr, name_of, ns_of, selector};
use crate::snapshot::{Custom, Snapshot, Source};

/// The zone label of nodes.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// The zone label before Kubernetes 1.17, still the only one on the nodes of some older clusters
/// and providers.
pub const LEGACY_ZONE_LABEL: &str = "failure-domain.beta.kubernetes.io/zone";

/// A node's zone: its [`ZONE_LABEL`], else its [`LEGACY_ZONE_LABEL`].
pub fn node_zone(n: &Node) -> Option<&str> {
    let labels = n.metadata.labels.as_ref()?;
    labels
        .get(ZONE_LABEL)
        .or_else(|| labels.get(LEGACY_ZONE_LABEL))
        .map(String::as_str)
}

fn by_ns<T>(source: &Source<T>, meta: impl Fn(&T) -> &ObjectMeta) -> HashMap<&str, Vec<&T>> {
    let mut map: HashMap<&str, Vec<&T>> = HashMap::new();
    for o in source.items_or_empty() {
        map.entry(ns_of(meta(o))).or_default().push(o);
    }
    map
}

/// Which namespaces a ServiceMonitor or PodMonitor looks in.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorNamespaces<'a> {
    Any,
    Names(Vec<&'a str>),
}

impl<'a> MonitorNamespaces<'a> {
    /// Where a ServiceMonitor or PodMonitor looks, as the Prometheus operator reads it:
    /// `spec.namespaceSelector.any: true` is every namespace, a non-empty `matchNames` those
    /// namespaces, and anything else the monitor's own namespace.
    pub fn of(monitor: &'a Value) -> MonitorNamespaces<'a> {
        if monitor
            .pointer("/spec/namespaceSelector/any")
            .and_then(Value::as_bool)
            == Some(true)
        {
            return MonitorNamespaces::Any;
        }
        match monitor
            .pointer("/spec/namespaceSelector/matchNames")
            .and_then(Value::as_array)
        {
            Some(names) if !names.is_empty() => {
                MonitorNamespaces::Names(names.iter().filter_map(Value::as_str).collect())
            }
            _ => MonitorNamespaces::Names(vec![
                jstr(monitor, "/metadata/namespace").unwrap_or("default"),
            ]),
        }
    }
}

/// Whether a ServiceMonitor or PodMonitor looks at objects in one of the namespaces `wanted`
/// accepts. Readers keep the monitors of other namespaces (the `monitoring` namespace, typically)
/// that watch the application's namespaces, and only those.
pub fn monitor_watches(monitor: &Value, wanted: impl Fn(&str) -> bool) -> bool {
    match MonitorNamespaces::of(monitor) {
        MonitorNamespaces::Any => true,
        MonitorNamespaces::Names(names) => names.into_iter().any(wanted),
    }
}

/// A ServiceMonitor or PodMonitor with its selector parsed.
#[derive(Debug, Clone)]
pub struct Monitor<'a> {
    pub object: &'a Value,
    pub namespace: &'a str,
    pub name: &'a str,
    /// `None` when spec.selector is missing or unreadable (selects nothing).
    pub selector: Option<LabelSelector>,
    pub namespaces: MonitorNamespaces<'a>,
}

/// Monitors by the namespace of the objects they select.
#[derive(Debug, Default)]
pub struct Monitors<'a> {
    all: Vec<Monitor<'a>>,
    by_target_ns: HashMap<&'a str, Vec<usize>>,
    any: Vec<usize>,
}

impl<'a> Monitors<'a> {
    fn new(source: &'a Source<Custom>) -> Monitors<'a> {
        let mut m = Monitors::default();
        for o in source.items_or_empty() {
            let namespace = jstr(o, "/metadata/namespace").unwrap_or("default");
            let namespaces = MonitorNamespaces::of(o);
            let i = m.all.len();
            match &namespaces {
                MonitorNamespaces::Any => m.any.push(i),
                MonitorNamespaces::Names(ns) => {
                    for n in ns {
                        m.by_target_ns.entry(n).or_default().push(i);
                    }
                }
            }
            m.all.push(Monitor {
                object: o,
                namespace,
                name: jstr(o, "/metadata/name").unwrap_or(""),
                selector: o
                    .pointer("/spec/selector")
                    .and_then(|s| serde_json::from_value(s.clone()).ok()),
                namespaces,
            });
        }
        m
    }

    /// The monitors that look at objects in `ns`.
    pub fn watching(&self, ns: &str) -> impl Iterator<Item = &Monitor<'a>> {
        self.by_target_ns
            .get(ns)
            .into_iter()
            .flatten()
            .chain(self.any.iter())
            .filter_map(|&i| self.all.get(i))
    }
}

/// The snapshot, indexed.
pub struct Index<'a> {
    pub snap: &'a Snapshot,
    pods_by_ns: HashMap<&'a str, Vec<&'a Pod>>,
    pods_by_label: HashMap<(&'a str, &'a str, &'a str), Vec<&'a Pod>>,
    pub services: HashMap<&'a str, Vec<&'a Service>>,
    pub network_policies: HashMap<&'a str, Vec<&'a NetworkPolicy>>,
    pub pdbs: HashMap<&'a str, Vec<&'a PodDisruptionBudget>>,
    pub limit_ranges: HashMap<&'a str, Vec<&'a LimitRange>>,
    pub ingresses: HashMap<&'a str, Vec<&'a Ingress>>,
    hpas: HashMap<(&'a str, &'a str, &'a str), &'a HorizontalPodAutoscaler>,
    service_accounts: HashMap<(&'a str, &'a str), &'a ServiceAccount>,
    pub nodes: HashMap<&'a str, &'a Node>,
    /// The nodes of each zone ([`node_zone`]), zones sorted by name; nodes without a zone
    /// label are left out.
    pub zones: Vec<(&'a str, Vec<&'a Node>)>,
    /// Requests per node (non-finished Pods with a nodeName): the snapshot's Pods and, when
    /// known, those of every other namespace ([`crate::snapshot::Snapshot::node_loads`]).
    pub node_used: HashMap<&'a str, Resources>,
    /// Every node's drain simulated for the application's Pods: computed by the first
    /// drain-capacity check that needs it.
    pub(crate) drain_plan: OnceLock<super::availability::DrainPlan<'a>>,
    pub service_monitors: Monitors<'a>,
    pub pod_monitors: Monitors<'a>,
    pub prometheus_rules: HashMap<&'a str, Vec<&'a Value>>,
    /// cert-manager Certificates by (namespace, spec.secretName).
    certificates: HashMap<(&'a str, &'a str), &'a Value>,
    namespace_versions: HashMap<&'a str, &'a str>,
}

impl<'a> Index<'a> {
    pub fn new(snap: &'a Snapshot) -> Index<'a> {
        let pods_by_ns = by_ns(&snap.pods, |p: &Pod| &p.metadata);
        let mut pods_by_label: HashMap<(&str, &str, &str), Vec<&Pod>> = HashMap::new();
        for p in snap.pods.items_or_empty() {
            let ns = ns_of(&p.metadata);
            for (k, v) in p.metadata.labels.iter().flatten() {
                pods_by_label.entry((ns, k, v)).or_default().push(p);
            }
        }
        let mut hpas = HashMap::new();
        for h in snap.horizontal_pod_autoscalers.items_or_empty() {
            if let Some(spec) = &h.spec {
                let t = &spec.scale_target_ref;
                hpas.insert((ns_of(&h.metadata), t.kind.as_str(), t.name.as_str()), h);
            }
        }
        let service_accounts = snap
            .service_accounts
            .items_or_empty()
            .iter()
            .map(|s| ((ns_of(&s.metadata), name_of(&s.metadata)), s))
            .collect();
        let nodes: HashMap<&str, &Node> = snap
            .nodes
            .items_or_empty()
            .iter()
            .map(|n| (name_of(&n.metadata), n))
            .collect();
        let mut by_zone: std::collections::BTreeMap<&str, Vec<&Node>> = Default::default();
        for n in nodes.values() {
            if let Some(z) = node_zone(n) {
                by_zone.entry(z).or_default().push(n);
            }
        }
        let zones: Vec<(&str, Vec<&Node>)> = by_zone
            .into_iter()
            .map(|(z, mut ns)| {
                ns.sort_by_key(|n| name_of(&n.metadata));
                (z, ns)
            })
            .collect();
        let mut node_used: HashMap<&str, Resources> = HashMap::new();
        for p in snap.pods.items_or_empty() {
            if let Some(node) = crate::snapshot::occupied_node(p) {
                node_used.entry(node).or_default().add(pod_requests(p));
            }
        }
        // Every other tenant of the nodes, when the reader could count them.
        for l in snap.node_loads.items_or_empty() {
            node_used
                .entry(l.node.as_str())
                .or_default()
                .add(Resources {
                    cpu_millis: l.cpu_millis,
                    memory_bytes: l.memory_bytes,
                    pods: l.pods,
                });
        }
        let mut prometheus_rules: HashMap<&str, Vec<&Value>> = HashMap::new();
        for r in snap.prometheus_rules.items_or_empty() {
            prometheus_rules
                .entry(jstr(r, "/metadata/namespace").unwrap_or("default"))
                .or_default()
                .push(r);
        }
        let mut certificates = HashMap::new();
        for c in snap.certificates.items_or_empty() {
            if let Some(secret) = jstr(c, "/spec/secretName") {
                certificates.insert(
                    (jstr(c, "/metadata/namespace").unwrap_or("default"), secret),
                    c,
                );
            }
        }
        let namespace_versions = snap
            .namespace_objects
            .items_or_empty()
            .iter()
            .filter_map(|n| {
                Some((
                    n.metadata.name.as_deref()?,
                    n.metadata.resource_version.as_deref()?,
                ))
            })
            .collect();
        Index {
            snap,
            pods_by_ns,
            pods_by_label,
            services: by_ns(&snap.services, |s: &Service| &s.metadata),
            network_policies: by_ns(&snap.network_policies, |s: &NetworkPolicy| &s.metadata),
            pdbs: by_ns(&snap.pod_disruption_budgets, |s: &PodDisruptionBudget| {
                &s.metadata
            }),
            limit_ranges: by_ns(&snap.limit_ranges, |s: &LimitRange| &s.metadata),
            ingresses: by_ns(&snap.ingresses, |s: &Ingress| &s.metadata),
            hpas,
            service_accounts,
            nodes,
            zones,
            node_used,
            drain_plan: OnceLock::new(),
            service_monitors: Monitors::new(&snap.service_monitors),
            pod_monitors: Monitors::new(&snap.pod_monitors),
            prometheus_rules,
            certificates,
            namespace_versions,
        }
    }

    /// Objects of a namespace in one of the per-namespace maps.
    pub fn in_ns<'m, T>(map: &'m HashMap<&'a str, Vec<&'a T>>, ns: &str) -> &'m [&'a T] {
        map.get(ns).map_or(&[], Vec::as_slice)
    }

    /// The HPA whose scaleTargetRef names the workload.
    pub fn hpa_for(&self, w: &Workload<'_>) -> Option<&'a HorizontalPodAutoscaler> {
        self.hpas
            .get(&(w.namespace, w.kind.as_str(), w.name))
            .copied()
    }

    pub fn service_account(&self, ns: &str, name: &str) -> Option<&'a ServiceAccount> {
        self.service_accounts.get(&(ns, name)).copied()
    }

    pub fn certificate_for_secret(&self, ns: &str, secret: &str) -> Option<&'a Value> {
        self.certificates.get(&(ns, secret)).copied()
    }

    pub fn namespace_version(&self, ns: &str) -> Option<&'a str> {
        self.namespace_versions.get(ns).copied()
    }

    /// The Pods of a workload, in any phase: same namespace and matching its selector, and, when
    /// a Pod names its controller, controlled by this workload ([`controlled_by`]: two workloads
    /// whose selectors both match a Pod do not share it); for a CronJob, the Pods of its Jobs
    /// (owner `<cronjob>-<digits>`); for a Job without selector, the Pods it owns.
    pub fn pods_of(&self, w: &Workload<'_>) -> Vec<&'a Pod> {
        let ns_pods = self
            .pods_by_ns
            .get(w.namespace)
            .map_or(&[][..], Vec::as_slice);
        if w.kind == WorkloadKind::CronJob {
            let prefix = format!("{}-", w.name);
            return ns_pods
                .iter()
                .copied()
                .filter(|p| {
                    p.metadata.owner_references.iter().flatten().any(|o| {
                        o.kind == "Job"
                            && o.name.strip_prefix(&prefix).is_some_and(|rest| {
                                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
                            })
                    })
                })
                .collect();
        }
        if w.kind == WorkloadKind::Job && w.selector.is_none() {
            return ns_pods
                .iter()
                .copied()
                .filter(|p| {
                    p.metadata
                        .owner_references
                        .iter()
                        .flatten()
                        .any(|o| o.kind == "Job" && o.name == w.name)
                })
                .collect();
        }
        let sel = w.effective_selector();
        // An empty selector would select every Pod of the namespace; Kubernetes rejects it for
        // workloads, so treat it as selecting nothing rather than claiming foreign Pods.
        if sel.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && sel.match_expressions.as_ref().is_none_or(|m| m.is_empty())
        {
            return Vec::new();
        }
        let candidates: &[&Pod] = match sel.match_labels.as_ref().and_then(|m| {
            m.iter()
                .map(|(k, v)| {
                    self.pods_by_label
                        .get(&(w.namespace, k.as_str(), v.as_str()))
                })
                .min_by_key(|l| l.map_or(0, |l| l.len()))
        }) {
            Some(Some(list)) => list,
            Some(None) => &[],
            None => ns_pods,
        };
        candidates
            .iter()
            .copied()
            .filter(|p| selector::matches(&sel, p.metadata.labels.as_ref()) && controlled_by(p, w))
            .collect()
    }
}

/// Whether `rest` is what a controller appends to its own name to name what it creates: a
/// non-empty run of lowercase letters and digits, no dash (so Deployment `web` does not claim
/// the ReplicaSet `web-api-6d4f` of Deployment `web-api`).
fn generated_suffix(rest: &str) -> bool {
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Whether a Pod belongs to the workload by its controller ownerReference, as the controllers
/// name what they create: a Deployment's or Argo Rollout's Pods are controlled by a ReplicaSet
/// `<name>-<pod-template-hash>`, a StatefulSet's and DaemonSet's by the workload itself, a Job's
/// by the Job, a CronJob's by a Job `<cronjob>-<scheduled time>`. A Pod that names no controller
/// (a hand-written manifest, a bare Pod) is left to the selector.
fn controlled_by(p: &Pod, w: &Workload<'_>) -> bool {
    let Some(owner) = p
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    else {
        return true;
    };
    let generated = |kind: &str, digits_only: bool| {
        owner.kind == kind
            && owner
                .name
                .strip_prefix(w.name)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|rest| {
                    generated_suffix(rest)
                        && (!digits_only || rest.bytes().all(|b| b.is_ascii_digit()))
                })
    };
    match w.kind {
        WorkloadKind::Deployment | WorkloadKind::Rollout => generated("ReplicaSet", false),
        WorkloadKind::StatefulSet | WorkloadKind::DaemonSet | WorkloadKind::Job => {
            owner.kind == w.kind.as_str() && owner.name == w.name
        }
        WorkloadKind::CronJob => generated("Job", true),
    }
}
