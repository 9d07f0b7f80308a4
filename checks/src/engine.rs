//! The go-live check engine: a pure function from a [`Snapshot`] to [`CheckResult`]s.
//!
//! [`evaluate`] builds per-namespace indexes of the snapshot once, gathers the workloads
//! ([`workloads`]) and their Pods (selector matching within the namespace, through a label
//! index; a Pod that names its controller in an ownerReference only goes with that workload,
//! see [`Index::pods_of`]), then runs each requested check on each workload. Results come check by check in the
//! order asked, and within a check workload by workload (sorted by namespace, kind, name).
//!
//! Subjects: every check is answered per workload, except `backups`, which is answered per
//! Namespace (Velero backs up namespaces, not workloads). The `metrics_alerts` check answers per
//! workload and includes the namespace's PrometheusRules in each answer.
//!
//! When a workload kind itself cannot be listed (Forbidden/Failed), each check gets one `Error`
//! result whose subject is that kind with name `*`, so a missing permission never looks like a
//! clean bill of health.
//!
//! Judging Pods versus templates: the checks of what runs (resources, non_root, image,
//! qos_priority, service_account) judge the running Pods when there are any, because admission
//! changes what actually runs (LimitRange defaults, the globalDefault PriorityClass, the
//! ServiceAccount and its token volume, mutating webhooks' sidecars); they judge the template
//! otherwise, and every Pod judged is listed in the evidence ([`POD_REFS`] of them, and how many
//! more). While a rollout is not complete (a paused Deployment, a rollout in progress or stuck:
//! [`Workload::rollout_pending`]) they judge the template beside the running Pods, since the
//! Pods then do not show what the template will run; a problem only the template has is
//! reported with the template's object as evidence and a message saying the next rollout brings
//! it. CronJobs and Jobs are judged on their template always (the next run starts from it)
//! and on their Pods that are still running, never on the finished Pods of earlier runs.
//! Structural checks (probes, rollout, graceful_shutdown) read the template, which is
//! what a fix changes; placement checks (spread, drain_capacity) need the running Pods.

mod availability;
mod hardening;
mod index;
mod operations;
pub mod quantity;
pub mod selector;
#[cfg(test)]
mod testing;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use crate::snapshot::{Snapshot, Source};
use crate::{CheckId, CheckResult, Evidence, ObjectRef, Outcome, Params};

pub use index::{Index, monitor_watches};
use selector::Labels;

/// The kinds of workload the checks look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    Job,
    /// argoproj.io Rollout.
    Rollout,
}

impl WorkloadKind {
    /// The Kubernetes kind ("StatefulSet").
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::Job => "Job",
            WorkloadKind::Rollout => "Rollout",
        }
    }

    /// Runs to completion (CronJob, Job) rather than serving continuously.
    pub fn is_batch(self) -> bool {
        matches!(self, WorkloadKind::CronJob | WorkloadKind::Job)
    }

    /// Has a replica count (Deployment, StatefulSet, Rollout).
    pub fn has_replicas(self) -> bool {
        matches!(
            self,
            WorkloadKind::Deployment | WorkloadKind::StatefulSet | WorkloadKind::Rollout
        )
    }
}

/// How a workload replaces its Pods on an update.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Strategy {
    /// RollingUpdate, Recreate, OnDelete, Canary, BlueGreen; `None` when not set (Kubernetes
    /// then defaults to RollingUpdate).
    pub type_: Option<String>,
    pub max_unavailable: Option<IntOrString>,
    pub max_surge: Option<IntOrString>,
    /// Where the strategy lives ("spec.strategy", "spec.updateStrategy").
    pub field: &'static str,
}

/// One workload, whatever its kind: the fields the checks need, borrowed from the snapshot
/// (Argo Rollouts, kept as JSON, are parsed into owned values).
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    pub kind: WorkloadKind,
    pub namespace: &'a str,
    pub name: &'a str,
    pub resource_version: Option<&'a str>,
    /// The workload object's own labels (`None` for Argo Rollouts, kept as JSON).
    pub labels: Option<&'a Labels>,
    /// The Pod selector; `None` when the object has none (then the template labels are used).
    pub selector: Option<Cow<'a, LabelSelector>>,
    /// spec.replicas as written (`None`: absent, Kubernetes defaults to 1).
    pub replicas: Option<i32>,
    /// status.readyReplicas (`None` when absent).
    pub ready_replicas: Option<i32>,
    /// Whether the object carries a status at all (objects from manifests do not).
    pub has_status: bool,
    pub template: Cow<'a, PodTemplateSpec>,
    /// The path of the pod template's spec, for messages ("spec.template.spec").
    pub template_path: &'static str,
    pub strategy: Strategy,
    /// Things worth saying in every result (e.g. where an Argo workloadRef's template comes from).
    pub notes: Vec<String>,
    /// The object the pod template was read from when it is not the workload itself (the
    /// Deployment an Argo Rollout names in spec.workloadRef): kept in every result's evidence.
    pub template_from: Option<ObjectRef>,
    /// Why the running Pods may not all be of the current template, read from the object's
    /// spec and status ("spec.paused is true", "status.updatedReplicas 1 of 3"); `None` when
    /// the rollout is complete or the object carries no status (see [`rollout_pending`]).
    pub rollout_pending: Option<String>,
}

static EMPTY_POD_SPEC: LazyLock<PodSpec> = LazyLock::new(PodSpec::default);

impl<'a> Workload<'a> {
    /// The workload as the subject of a result.
    pub fn subject(&self) -> ObjectRef {
        ObjectRef {
            kind: self.kind.as_str().to_string(),
            namespace: Some(self.namespace.to_string()),
            name: self.name.to_string(),
            resource_version: self.resource_version.map(str::to_string),
        }
    }

    /// "Deployment shop/cart".
    pub fn display(&self) -> String {
        format!("{} {}/{}", self.kind.as_str(), self.namespace, self.name)
    }

    /// The pod template's spec (an empty one when the template has none).
    pub fn pod_spec(&self) -> &PodSpec {
        self.template.spec.as_ref().unwrap_or(&EMPTY_POD_SPEC)
    }

    /// The pod template's labels.
    pub fn template_labels(&self) -> Option<&Labels> {
        self.template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.as_ref())
    }

    /// The effective selector: the object's, or the template labels as matchLabels.
    pub fn effective_selector(&self) -> Cow<'_, LabelSelector> {
        match &self.selector {
            Some(s) => Cow::Borrowed(s.as_ref()),
            None => Cow::Owned(LabelSelector {
                match_labels: Some(self.template_labels().cloned().unwrap_or_default()),
                match_expressions: None,
            }),
        }
    }
}

fn ns_of(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("default")
}

fn name_of(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

/// An evidence reference to a typed object.
pub(crate) fn obj_ref(kind: &str, meta: &ObjectMeta) -> ObjectRef {
    ObjectRef {
        kind: kind.to_string(),
        namespace: meta.namespace.clone(),
        name: name_of(meta).to_string(),
        resource_version: meta.resource_version.clone(),
    }
}

/// An evidence reference to a custom object kept as JSON.
pub(crate) fn custom_ref(kind: &str, v: &Value) -> ObjectRef {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    ObjectRef {
        kind: kind.to_string(),
        namespace: s("/metadata/namespace"),
        name: s("/metadata/name").unwrap_or_default(),
        resource_version: s("/metadata/resourceVersion"),
    }
}

pub(crate) fn jstr<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn strategy_of(
    type_: Option<&String>,
    max_unavailable: Option<&IntOrString>,
    max_surge: Option<&IntOrString>,
    field: &'static str,
) -> Strategy {
    Strategy {
        type_: type_.cloned(),
        max_unavailable: max_unavailable.cloned(),
        max_surge: max_surge.cloned(),
        field,
    }
}

/// Every workload of the snapshot (in its namespaces, when it names them), sorted by namespace,
/// kind and name. Jobs created by a CronJob are left out: the CronJob stands for them. So are
/// Deployments that an Argo Rollout of their namespace names in `spec.workloadRef`: the Rollout
/// runs their pod template and owns the replica count (Argo scales the Deployment down), so the
/// Rollout stands for them and is judged on that template.
pub fn workloads(snapshot: &Snapshot) -> Vec<Workload<'_>> {
    let mut out = Vec::new();
    let deployments: HashMap<(&str, &str), &Deployment> = snapshot
        .deployments
        .items_or_empty()
        .iter()
        .map(|d| ((ns_of(&d.metadata), name_of(&d.metadata)), d))
        .collect();
    let deployments_unreadable = source_error(&snapshot.deployments, "deployments");
    let mut referenced: HashSet<(&str, &str)> = HashSet::new();
    for r in snapshot.rollouts.items_or_empty() {
        let (w, followed) = rollout_workload(r, &deployments, deployments_unreadable.as_deref());
        if let Some(d) = followed {
            referenced.insert((ns_of(&d.metadata), name_of(&d.metadata)));
        }
        out.push(w);
    }
    for d in snapshot.deployments.items_or_empty() {
        if referenced.contains(&(ns_of(&d.metadata), name_of(&d.metadata))) {
            continue;
        }
        let spec = d.spec.as_ref();
        let rolling = spec
            .and_then(|s| s.strategy.as_ref())
            .and_then(|s| s.rolling_update.as_ref());
        out.push(Workload {
            kind: WorkloadKind::Deployment,
            namespace: ns_of(&d.metadata),
            name: name_of(&d.metadata),
            resource_version: d.metadata.resource_version.as_deref(),
            labels: d.metadata.labels.as_ref(),
            selector: spec.map(|s| Cow::Borrowed(&s.selector)),
            replicas: spec.and_then(|s| s.replicas),
            ready_replicas: d.status.as_ref().and_then(|s| s.ready_replicas),
            has_status: d.status.is_some(),
            template: spec.map_or_else(
                || Cow::Owned(PodTemplateSpec::default()),
                |s| Cow::Borrowed(&s.template),
            ),
            template_path: "spec.template.spec",
            strategy: strategy_of(
                spec.and_then(|s| s.strategy.as_ref())
                    .and_then(|s| s.type_.as_ref()),
                rolling.and_then(|r| r.max_unavailable.as_ref()),
                rolling.and_then(|r| r.max_surge.as_ref()),
                "spec.strategy",
            ),
            notes: Vec::new(),
            template_from: None,
            rollout_pending: deployment_rollout(d),
        });
    }
    for s in snapshot.stateful_sets.items_or_empty() {
        let spec = s.spec.as_ref();
        let strategy = spec.and_then(|s| s.update_strategy.as_ref());
        let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
        out.push(Workload {
            kind: WorkloadKind::StatefulSet,
            namespace: ns_of(&s.metadata),
            name: name_of(&s.metadata),
            resource_version: s.metadata.resource_version.as_deref(),
            labels: s.metadata.labels.as_ref(),
            selector: spec.map(|s| Cow::Borrowed(&s.selector)),
            replicas: spec.and_then(|s| s.replicas),
            ready_replicas: s.status.as_ref().and_then(|s| s.ready_replicas),
            has_status: s.status.is_some(),
            template: spec.map_or_else(
                || Cow::Owned(PodTemplateSpec::default()),
                |s| Cow::Borrowed(&s.template),
            ),
            template_path: "spec.template.spec",
            strategy: strategy_of(
                strategy.and_then(|s| s.type_.as_ref()),
                rolling.and_then(|r| r.max_unavailable.as_ref()),
                None,
                "spec.updateStrategy",
            ),
            notes: Vec::new(),
            template_from: None,
            rollout_pending: stateful_set_rollout(s),
        });
    }
    for d in snapshot.daemon_sets.items_or_empty() {
        let spec = d.spec.as_ref();
        let strategy = spec.and_then(|s| s.update_strategy.as_ref());
        let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
        out.push(Workload {
            kind: WorkloadKind::DaemonSet,
            namespace: ns_of(&d.metadata),
            name: name_of(&d.metadata),
            resource_version: d.metadata.resource_version.as_deref(),
            labels: d.metadata.labels.as_ref(),
            selector: spec.map(|s| Cow::Borrowed(&s.selector)),
            replicas: None,
            ready_replicas: d.status.as_ref().map(|s| s.number_ready),
            has_status: d.status.is_some(),
            template: spec.map_or_else(
                || Cow::Owned(PodTemplateSpec::default()),
                |s| Cow::Borrowed(&s.template),
            ),
            template_path: "spec.template.spec",
            strategy: strategy_of(
                strategy.and_then(|s| s.type_.as_ref()),
                rolling.and_then(|r| r.max_unavailable.as_ref()),
                rolling.and_then(|r| r.max_surge.as_ref()),
                "spec.updateStrategy",
            ),
            notes: Vec::new(),
            template_from: None,
            rollout_pending: daemon_set_rollout(d),
        });
    }
    for c in snapshot.cron_jobs.items_or_empty() {
        let job_spec = c.spec.as_ref().and_then(|s| s.job_template.spec.as_ref());
        out.push(Workload {
            kind: WorkloadKind::CronJob,
            namespace: ns_of(&c.metadata),
            name: name_of(&c.metadata),
            resource_version: c.metadata.resource_version.as_deref(),
            labels: c.metadata.labels.as_ref(),
            selector: None,
            replicas: None,
            ready_replicas: None,
            has_status: c.status.is_some(),
            template: job_spec.map_or_else(
                || Cow::Owned(PodTemplateSpec::default()),
                |s| Cow::Borrowed(&s.template),
            ),
            template_path: "spec.jobTemplate.spec.template.spec",
            strategy: Strategy::default(),
            notes: Vec::new(),
            template_from: None,
            rollout_pending: None,
        });
    }
    for j in snapshot.jobs.items_or_empty() {
        let owned_by_cron = j
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.kind == "CronJob");
        if owned_by_cron {
            continue;
        }
        let spec = j.spec.as_ref();
        out.push(Workload {
            kind: WorkloadKind::Job,
            namespace: ns_of(&j.metadata),
            name: name_of(&j.metadata),
            resource_version: j.metadata.resource_version.as_deref(),
            labels: j.metadata.labels.as_ref(),
            selector: spec.and_then(|s| s.selector.as_ref()).map(Cow::Borrowed),
            replicas: None,
            ready_replicas: None,
            has_status: j.status.is_some(),
            template: spec.map_or_else(
                || Cow::Owned(PodTemplateSpec::default()),
                |s| Cow::Borrowed(&s.template),
            ),
            template_path: "spec.template.spec",
            strategy: Strategy::default(),
            notes: Vec::new(),
            template_from: None,
            rollout_pending: None,
        });
    }
    if !snapshot.namespaces.is_empty() {
        let wanted: BTreeSet<&str> = snapshot.namespaces.iter().map(String::as_str).collect();
        out.retain(|w| wanted.contains(w.namespace));
    }
    out.sort_by(|a, b| (a.namespace, a.kind, a.name).cmp(&(b.namespace, b.kind, b.name)));
    out
}

/// What says whether a workload's rollout is complete, as its controller reports it.
#[derive(Debug, Default)]
struct RolloutState<'s> {
    /// spec.paused (a paused Deployment or Argo Rollout creates no Pods of a new template).
    paused: bool,
    generation: Option<i64>,
    observed_generation: Option<i64>,
    /// The Pods the controller aims for (spec.replicas, desiredNumberScheduled).
    desired: i32,
    /// Pods of the current template, and the field that counts them.
    updated: Option<i32>,
    updated_field: &'static str,
    /// Every Pod of the workload, old and new (status.replicas), when the status counts them.
    total: Option<i32>,
    /// (status.currentRevision, status.updateRevision) of a StatefulSet; (stableRS,
    /// currentPodHash) of an Argo Rollout.
    revisions: Option<(&'s str, &'s str)>,
    revisions_fields: (&'static str, &'static str),
}

/// Why the running Pods may not all be of the current template, or `None` when the rollout is
/// complete. Kubernetes leaves zero counts out of a status; a status its controller wrote carries
/// observedGeneration, so there a missing count is 0 (a new template whose Pods admission
/// refuses has no updated Pod at all), while a hand-written status without it proves nothing.
fn rollout_pending(s: RolloutState<'_>) -> Option<String> {
    let mut why = Vec::new();
    if s.paused {
        why.push("spec.paused is true".to_string());
    }
    if let (Some(g), Some(o)) = (s.generation, s.observed_generation)
        && o < g
    {
        why.push(format!(
            "status.observedGeneration {o} is behind metadata.generation {g}"
        ));
    }
    let written = s.observed_generation.is_some();
    let updated = s.updated.or(written.then_some(0));
    match (updated, s.total) {
        (Some(u), _) if u < s.desired => {
            why.push(format!("{} is {u} of {}", s.updated_field, s.desired));
        }
        (Some(u), Some(t)) if t > u => why.push(format!(
            "{} of the {t} Pods are not of the current template ({} {u})",
            t - u,
            s.updated_field
        )),
        _ => {}
    }
    if let Some((current, update)) = s.revisions
        && current != update
    {
        let (cf, uf) = s.revisions_fields;
        why.push(format!("{cf} {current} is not {uf} {update}"));
    }
    (!why.is_empty()).then(|| why.join(", "))
}

fn deployment_rollout(d: &Deployment) -> Option<String> {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref()?;
    rollout_pending(RolloutState {
        paused: spec.and_then(|s| s.paused) == Some(true),
        generation: d.metadata.generation,
        observed_generation: status.observed_generation,
        desired: spec.and_then(|s| s.replicas).unwrap_or(1),
        updated: status.updated_replicas,
        updated_field: "status.updatedReplicas",
        total: status.replicas,
        ..RolloutState::default()
    })
}

fn stateful_set_rollout(s: &StatefulSet) -> Option<String> {
    let status = s.status.as_ref()?;
    rollout_pending(RolloutState {
        generation: s.metadata.generation,
        observed_generation: status.observed_generation,
        desired: s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        updated: status.updated_replicas,
        updated_field: "status.updatedReplicas",
        total: Some(status.replicas),
        revisions: status
            .current_revision
            .as_deref()
            .zip(status.update_revision.as_deref()),
        revisions_fields: ("status.currentRevision", "status.updateRevision"),
        ..RolloutState::default()
    })
}

fn daemon_set_rollout(d: &DaemonSet) -> Option<String> {
    let status = d.status.as_ref()?;
    rollout_pending(RolloutState {
        generation: d.metadata.generation,
        observed_generation: status.observed_generation,
        desired: status.desired_number_scheduled,
        updated: status.updated_number_scheduled,
        updated_field: "status.updatedNumberScheduled",
        total: Some(status.current_number_scheduled),
        ..RolloutState::default()
    })
}

/// An Argo Rollout's: its status.observedGeneration is a string; a canary or blue-green update
/// in progress has a currentPodHash that is not yet the stableRS; a step or an analysis may
/// pause it (status.pauseConditions).
fn argo_rollout(r: &Value) -> Option<String> {
    let status = r.get("status")?;
    let int =
        |v: Option<&Value>| v.and_then(|v| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok()));
    let paused_by = status
        .get("pauseConditions")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|c| jstr(c, "/reason"))
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty());
    let pending = rollout_pending(RolloutState {
        paused: r.pointer("/spec/paused").and_then(Value::as_bool) == Some(true),
        generation: int(r.pointer("/metadata/generation")),
        observed_generation: int(status.get("observedGeneration")),
        desired: int(r.pointer("/spec/replicas"))
            .and_then(|v| i32::try_from(v).ok())
            .unwrap_or(1),
        updated: int(status.get("updatedReplicas")).and_then(|v| i32::try_from(v).ok()),
        updated_field: "status.updatedReplicas",
        total: int(status.get("replicas")).and_then(|v| i32::try_from(v).ok()),
        revisions: jstr(status, "/stableRS").zip(jstr(status, "/currentPodHash")),
        revisions_fields: ("status.stableRS", "status.currentPodHash"),
    });
    match (pending, paused_by) {
        (p, None) => p,
        (None, Some(reasons)) => Some(format!("status.pauseConditions {}", reasons.join(", "))),
        (Some(p), Some(reasons)) => Some(format!(
            "{p}, status.pauseConditions {}",
            reasons.join(", ")
        )),
    }
}

/// An Argo Rollout (JSON) as a workload, and the Deployment whose pod template it borrows
/// (`spec.workloadRef`), when it names one that the snapshot holds.
fn rollout_workload<'a>(
    r: &'a Value,
    deployments: &HashMap<(&str, &str), &'a Deployment>,
    deployments_unreadable: Option<&str>,
) -> (Workload<'a>, Option<&'a Deployment>) {
    let mut notes = Vec::new();
    let namespace = jstr(r, "/metadata/namespace").unwrap_or("default");
    let mut followed: Option<&'a Deployment> = None;
    let template: Cow<'a, PodTemplateSpec> = if let Some(wref) = r.pointer("/spec/workloadRef") {
        let kind = jstr(wref, "/kind").unwrap_or("");
        let target = jstr(wref, "/name").unwrap_or("");
        let found = (kind == "Deployment")
            .then(|| deployments.get(&(namespace, target)).copied())
            .flatten();
        match found.and_then(|d| d.spec.as_ref().map(|s| (d, s))) {
            Some((d, spec)) => {
                followed = Some(d);
                notes.push(format!(
                    "pod template from Deployment {namespace}/{target} (spec.workloadRef); fix \
                     the template there. That Deployment is managed by this Rollout and not \
                     judged on its own"
                ));
                Cow::Borrowed(&spec.template)
            }
            None => {
                let why = if kind != "Deployment" {
                    format!("names a {kind}, which Demarc does not follow")
                } else if let Some(e) = deployments_unreadable {
                    format!("names Deployment {namespace}/{target}, which could not be read ({e})")
                } else {
                    format!("names Deployment {namespace}/{target}, which was not found")
                };
                notes.push(format!(
                    "spec.workloadRef {why}; judged against an empty pod template"
                ));
                Cow::Owned(PodTemplateSpec::default())
            }
        }
    } else {
        match r.pointer("/spec/template") {
            Some(t) => match serde_json::from_value::<PodTemplateSpec>(t.clone()) {
                Ok(t) => Cow::Owned(t),
                Err(e) => {
                    notes.push(format!(
                        "spec.template could not be read ({e}); judged as empty"
                    ));
                    Cow::Owned(PodTemplateSpec::default())
                }
            },
            None => Cow::Owned(PodTemplateSpec::default()),
        }
    };
    let selector = r
        .pointer("/spec/selector")
        .and_then(|s| serde_json::from_value::<LabelSelector>(s.clone()).ok())
        .map(Cow::Owned)
        .or_else(|| {
            followed
                .and_then(|d| d.spec.as_ref())
                .map(|s| Cow::Borrowed(&s.selector))
        });
    let int = |p: &str| {
        r.pointer(p)
            .and_then(Value::as_i64)
            .and_then(|v| i32::try_from(v).ok())
    };
    let (type_, mu, ms) = if let Some(c) = r.pointer("/spec/strategy/canary") {
        (Some("Canary"), c.get("maxUnavailable"), c.get("maxSurge"))
    } else if r.pointer("/spec/strategy/blueGreen").is_some() {
        (Some("BlueGreen"), None, None)
    } else {
        (None, None, None)
    };
    let ios =
        |v: Option<&Value>| v.and_then(|v| serde_json::from_value::<IntOrString>(v.clone()).ok());
    let w = Workload {
        kind: WorkloadKind::Rollout,
        namespace,
        name: jstr(r, "/metadata/name").unwrap_or(""),
        resource_version: jstr(r, "/metadata/resourceVersion"),
        labels: None,
        selector,
        replicas: int("/spec/replicas"),
        ready_replicas: int("/status/readyReplicas"),
        has_status: r.get("status").is_some(),
        template,
        template_path: "spec.template.spec",
        strategy: Strategy {
            type_: type_.map(str::to_string),
            max_unavailable: ios(mu),
            max_surge: ios(ms),
            field: "spec.strategy",
        },
        notes,
        template_from: followed.map(|d| obj_ref("Deployment", &d.metadata)),
        rollout_pending: argo_rollout(r),
    };
    (w, followed)
}

/// One check's answer before the subject is attached.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    pub outcome: Outcome,
    pub message: String,
    pub evidence: Evidence,
}

impl Verdict {
    pub fn new(outcome: Outcome, message: impl Into<String>, evidence: Evidence) -> Verdict {
        Verdict {
            outcome,
            message: message.into(),
            evidence,
        }
    }

    pub fn na(message: impl Into<String>) -> Verdict {
        Verdict::new(Outcome::NotApplicable, message, Evidence::default())
    }
}

/// Evidence being gathered.
pub(crate) trait EvidenceExt {
    fn obj(&mut self, r: ObjectRef);
    fn val(&mut self, key: impl Into<String>, v: impl Into<Value>);
}

impl EvidenceExt for Evidence {
    fn obj(&mut self, r: ObjectRef) {
        if !self.objects.contains(&r) {
            self.objects.push(r);
        }
    }

    fn val(&mut self, key: impl Into<String>, v: impl Into<Value>) {
        self.values.insert(key.into(), v.into());
    }
}

/// `Some("cannot list nodes: <reason>")` when a source could not be read. A kind that is not
/// installed is not an error here: callers decide what its absence means.
pub(crate) fn source_error<T>(source: &Source<T>, what: &str) -> Option<String> {
    match source {
        Source::Forbidden(reason) => Some(format!(
            "cannot list {what}: forbidden ({reason}); grant get and list on {what} to Demarc's reader (deploy/clusterrole.yaml has the rules)"
        )),
        Source::Failed(reason) => Some(format!("cannot list {what}: {reason}")),
        Source::Read(_) | Source::NotInstalled => None,
    }
}

/// The error verdict for an unreadable source.
pub(crate) fn error(message: String) -> Verdict {
    Verdict::new(Outcome::Error, message, Evidence::default())
}

/// What one check on one workload sees.
pub(crate) struct Cx<'s, 'a> {
    pub idx: &'s Index<'a>,
    pub w: &'s Workload<'a>,
    /// The Pods matching the workload (any phase).
    pub pods: &'s [&'a Pod],
}

impl<'a> Cx<'_, 'a> {
    /// The Pods that are not finished (phase other than Succeeded/Failed).
    pub fn live_pods(&self) -> Vec<&'a Pod> {
        self.pods
            .iter()
            .copied()
            .filter(|p| {
                let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
                !matches!(phase, Some("Succeeded" | "Failed"))
                    && p.metadata.deletion_timestamp.is_none()
            })
            .collect()
    }

    /// The pod specs to judge. A serving workload: its running Pods when there are any, else
    /// its template; and the template beside its running Pods while its rollout is not complete
    /// ([`Workload::rollout_pending`]: a paused Deployment, a rollout in progress or stuck), since
    /// the Pods then do not show what the template will run. Once the rollout is complete the
    /// running Pods alone are the truth (admission and webhooks may change what runs). A batch
    /// workload (CronJob, Job): always its template, which the next run starts from, and its
    /// Pods that are still running; the finished Pods of earlier runs say nothing of the
    /// template now (a fixed template would keep failing on them, a broken one keep passing).
    pub fn judged_specs(&self) -> (Vec<Judging<'_>>, JudgedFrom) {
        let specs: Vec<Judging<'_>> = self
            .live_pods()
            .into_iter()
            .filter_map(|p| {
                p.spec.as_ref().map(|spec| Judging {
                    pod: Some(p),
                    meta: &p.metadata,
                    spec,
                })
            })
            .collect();
        let template = Judging {
            pod: None,
            meta: self.w.template.metadata.as_ref().unwrap_or(&EMPTY_META),
            spec: self.w.pod_spec(),
        };
        if specs.is_empty() {
            let from = match source_error(&self.idx.snap.pods, "pods") {
                Some(e) => JudgedFrom::TemplatePodsUnreadable(e),
                None => JudgedFrom::Template,
            };
            return (vec![template], from);
        }
        let from = if self.w.kind.is_batch() {
            JudgedFrom::TemplateAndPods
        } else if let Some(why) = &self.w.rollout_pending {
            JudgedFrom::RolloutPending(why.clone())
        } else {
            return (specs, JudgedFrom::Pods);
        };
        let mut all = Vec::with_capacity(specs.len() + 1);
        all.push(template);
        all.extend(specs);
        (all, from)
    }

    /// The object the pod template is read from: the workload, or the Deployment an Argo
    /// Rollout borrows it from.
    pub fn template_object(&self) -> ObjectRef {
        self.w
            .template_from
            .clone()
            .unwrap_or_else(|| self.w.subject())
    }
}

static EMPTY_META: LazyLock<ObjectMeta> = LazyLock::new(ObjectMeta::default);

/// One pod spec being judged: a running Pod's, or the pod template's (`pod` is `None`).
pub(crate) struct Judging<'p> {
    pub pod: Option<&'p Pod>,
    /// The Pod's metadata, or the template's (annotations such as AppArmor's live there).
    pub meta: &'p ObjectMeta,
    pub spec: &'p PodSpec,
}

/// Whether the running Pods or the template were judged.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JudgedFrom {
    Pods,
    /// A batch workload's template and its running Pods (see [`Cx::judged_specs`]).
    TemplateAndPods,
    /// The template and the running Pods of a serving workload whose rollout is not complete
    /// (why, see [`Workload::rollout_pending`]).
    RolloutPending(String),
    Template,
    TemplatePodsUnreadable(String),
}

impl JudgedFrom {
    /// Whether running Pods were judged (alone or beside the template).
    pub fn pods(&self) -> bool {
        matches!(
            self,
            JudgedFrom::Pods | JudgedFrom::TemplateAndPods | JudgedFrom::RolloutPending(_)
        )
    }
}

/// The findings of [`judge_specs`].
pub(crate) struct Judged {
    /// The distinct problems, in the order first seen.
    pub problems: Vec<String>,
    /// Where they were seen ("in the pod template (no running Pods)", "in 2 of 3 running Pod(s)
    /// (e.g. cart-1)", "in the pod template and 1 running Pod(s)").
    pub scope: String,
    pub from: JudgedFrom,
    /// Whether the pod template was judged and has problems.
    pub template_bad: bool,
}

/// How many Pods one result lists among its evidence objects; the rest are counted
/// (`pods_not_listed`), so a DaemonSet on 500 nodes does not carry 500 references.
pub(crate) const POD_REFS: usize = 20;

/// Records the Pods a check read as evidence objects (kind, namespace, name, resourceVersion):
/// the first [`POD_REFS`], and how many more there were.
pub(crate) fn pod_refs(ev: &mut Evidence, pods: &[&Pod]) {
    for p in pods.iter().take(POD_REFS) {
        ev.obj(obj_ref("Pod", &p.metadata));
    }
    if pods.len() > POD_REFS {
        ev.val("pods_not_listed", pods.len() - POD_REFS);
    }
}

/// What the message says of a template's problems that the running Pods do not have yet, while
/// a rollout is not complete.
pub(crate) fn next_rollout(why: &str) -> String {
    format!("the next rollout brings it to the running Pods (the rollout is not complete: {why})")
}

/// Runs `judge` on the judged specs ([`Cx::judged_specs`]) and folds the findings.
/// The Pods judged become evidence objects (see [`pod_refs`]). While a rollout is not complete,
/// the problems of the template that no running Pod has yet are listed as
/// `in_pod_template_only`, with the template's object among the evidence.
pub(crate) fn judge_specs(
    cx: &Cx<'_, '_>,
    ev: &mut Evidence,
    mut judge: impl FnMut(&PodSpec, &ObjectMeta) -> Vec<String>,
) -> Judged {
    let (specs, from) = cx.judged_specs();
    let mut problems: Vec<String> = Vec::new();
    let mut of_template: Vec<String> = Vec::new();
    let mut of_pods: HashSet<String> = HashSet::new();
    let mut bad_pods: Vec<&str> = Vec::new();
    for j in &specs {
        let found = judge(j.spec, j.meta);
        if !found.is_empty() {
            match j.pod {
                Some(p) => bad_pods.push(name_of(&p.metadata)),
                None => of_template.clone_from(&found),
            }
        }
        for p in found {
            if j.pod.is_some() {
                of_pods.insert(p.clone());
            }
            if !problems.contains(&p) {
                problems.push(p);
            }
        }
    }
    let bad_template = !of_template.is_empty();
    let pods: Vec<&Pod> = specs.iter().filter_map(|j| j.pod).collect();
    let total = pods.len();
    let running = match bad_pods.first() {
        None => format!("{total} running Pod(s)"),
        Some(first) => format!(
            "{} of {total} running Pod(s) (e.g. {first})",
            bad_pods.len()
        ),
    };
    let scope = match &from {
        JudgedFrom::Pods => {
            ev.val("judged", "running Pods");
            ev.val("pods_judged", total);
            pod_refs(ev, &pods);
            format!("in {running}")
        }
        JudgedFrom::TemplateAndPods => {
            ev.val(
                "judged",
                format!("pod template ({}) and running Pods", cx.w.template_path),
            );
            ev.val("pods_judged", total);
            pod_refs(ev, &pods);
            match (bad_template, bad_pods.is_empty()) {
                (true, true) => format!("in the pod template (not in the {total} running Pod(s))"),
                (true, false) => format!("in the pod template and {running}"),
                (false, false) => format!("in {running} (not in the pod template)"),
                (false, true) => format!("in the pod template and {running}"),
            }
        }
        JudgedFrom::RolloutPending(why) => {
            ev.val(
                "judged",
                format!("pod template ({}) and running Pods", cx.w.template_path),
            );
            ev.val("rollout_pending", why.as_str());
            ev.val("pods_judged", total);
            let template_only: Vec<&String> = of_template
                .iter()
                .filter(|p| !of_pods.contains(*p))
                .collect();
            if !template_only.is_empty() {
                ev.obj(cx.template_object());
                ev.val("in_pod_template_only", json!(template_only));
            }
            pod_refs(ev, &pods);
            let path = cx.w.template_path;
            match (bad_template, bad_pods.is_empty()) {
                (true, true) => format!(
                    "in the pod template ({path}), not yet in the {total} running Pod(s): {}",
                    next_rollout(why)
                ),
                (true, false) if template_only.is_empty() => format!(
                    "in the pod template and {running} (the rollout is not complete: {why})"
                ),
                (true, false) => format!(
                    "in the pod template and {running}; {} of them only in the pod template \
                     ({path}), which the next rollout brings to the running Pods (the rollout is \
                     not complete: {why})",
                    template_only.len()
                ),
                (false, false) => format!(
                    "in {running}, not in the pod template, which they predate (the rollout is \
                     not complete: {why})"
                ),
                (false, true) => format!(
                    "in the pod template and {running} (the rollout is not complete: {why})"
                ),
            }
        }
        JudgedFrom::Template => {
            ev.val("judged", format!("pod template ({})", cx.w.template_path));
            "in the pod template (no running Pods)".to_string()
        }
        JudgedFrom::TemplatePodsUnreadable(e) => {
            ev.val("judged", format!("pod template ({})", cx.w.template_path));
            format!("in the pod template ({e})")
        }
    };
    Judged {
        problems,
        scope,
        from,
        template_bad: bad_template,
    }
}

/// All containers of a spec with their field path: init containers first.
pub(crate) fn all_containers(
    spec: &PodSpec,
) -> impl Iterator<Item = (&'static str, &k8s_openapi::api::core::v1::Container)> {
    spec.init_containers
        .iter()
        .flatten()
        .map(|c| ("initContainers", c))
        .chain(spec.containers.iter().map(|c| ("containers", c)))
}

/// Below this many workloads, evaluation stays on the calling thread.
const PARALLEL_FROM: usize = 512;

/// Evaluates `checks` on `snapshot` at `now`. Large snapshots are evaluated on up to 8 scoped
/// threads; the results are the same, in the same order.
pub fn evaluate(
    snapshot: &Snapshot,
    checks: &[(CheckId, Params)],
    now: DateTime<Utc>,
) -> Vec<CheckResult> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    evaluate_on(snapshot, checks, now, threads)
}

/// [`evaluate`] on at most `threads` threads.
fn evaluate_on(
    snapshot: &Snapshot,
    checks: &[(CheckId, Params)],
    now: DateTime<Utc>,
    threads: usize,
) -> Vec<CheckResult> {
    let idx = Index::new(snapshot);
    let ws = workloads(snapshot);
    let pods: Vec<Vec<&Pod>> = ws.iter().map(|w| idx.pods_of(w)).collect();
    let namespaces = namespaces(snapshot, &ws);
    let unreadable_kinds: Vec<(&str, String)> = [
        (
            "Deployment",
            source_error(&snapshot.deployments, "deployments"),
        ),
        (
            "StatefulSet",
            source_error(&snapshot.stateful_sets, "statefulsets"),
        ),
        (
            "DaemonSet",
            source_error(&snapshot.daemon_sets, "daemonsets"),
        ),
        ("CronJob", source_error(&snapshot.cron_jobs, "cronjobs")),
        ("Job", source_error(&snapshot.jobs, "jobs")),
        (
            "Rollout",
            source_error(&snapshot.rollouts, "rollouts.argoproj.io"),
        ),
    ]
    .into_iter()
    .filter_map(|(k, e)| e.map(|e| (k, e)))
    .collect();

    let mut out = Vec::with_capacity(checks.len() * (ws.len() + 1));
    for (check, params) in checks {
        if *check == CheckId::Backups {
            for (ns, v) in operations::backups(&idx, &namespaces, params, now) {
                let subject = ObjectRef {
                    kind: "Namespace".to_string(),
                    namespace: None,
                    name: ns.to_string(),
                    resource_version: idx.namespace_version(ns).map(str::to_string),
                };
                out.push(finish(*check, subject, v, &[], None));
            }
            continue;
        }
        for (kind, e) in &unreadable_kinds {
            out.push(CheckResult {
                check: *check,
                subject: ObjectRef {
                    kind: kind.to_string(),
                    namespace: None,
                    name: "*".to_string(),
                    resource_version: None,
                },
                outcome: Outcome::Error,
                message: format!("{e}; these workloads were not checked"),
                evidence: Evidence::default(),
            });
        }
        if threads > 1 && ws.len() >= PARALLEL_FROM {
            // Checks are independent per workload: split the workloads over the cores and
            // keep the order by joining the chunks in sequence.
            let chunk = ws.len().div_ceil(threads);
            let idx = &idx;
            let parts: Vec<Vec<CheckResult>> = std::thread::scope(|scope| {
                let handles: Vec<_> = ws
                    .chunks(chunk)
                    .zip(pods.chunks(chunk))
                    .map(|(wc, pc)| {
                        scope.spawn(move || {
                            wc.iter()
                                .zip(pc)
                                .map(|(w, p)| run_one(idx, *check, params, now, w, p))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    // A panic in a worker thread is a bug: surface it rather than drop results.
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            });
            out.extend(parts.into_iter().flatten());
        } else {
            out.extend(
                ws.iter()
                    .zip(&pods)
                    .map(|(w, p)| run_one(&idx, *check, params, now, w, p)),
            );
        }
    }
    out
}

fn run_one<'a>(
    idx: &Index<'a>,
    check: CheckId,
    params: &Params,
    now: DateTime<Utc>,
    w: &Workload<'a>,
    pods: &[&'a Pod],
) -> CheckResult {
    let cx = Cx { idx, w, pods };
    let v = run(check, &cx, params, now);
    finish(check, w.subject(), v, &w.notes, w.template_from.as_ref())
}

fn finish(
    check: CheckId,
    subject: ObjectRef,
    v: Verdict,
    notes: &[String],
    template_from: Option<&ObjectRef>,
) -> CheckResult {
    let mut evidence = v.evidence;
    if subject.kind != "Namespace" && !evidence.objects.contains(&subject) {
        evidence.objects.insert(0, subject.clone());
    }
    if let Some(t) = template_from
        && !evidence.objects.contains(t)
    {
        evidence
            .objects
            .insert(1.min(evidence.objects.len()), t.clone());
    }
    let mut message = v.message;
    for n in notes {
        message.push_str(" (Note: ");
        message.push_str(n);
        message.push(')');
    }
    CheckResult {
        check,
        subject,
        outcome: v.outcome,
        message,
        evidence,
    }
}

fn run(check: CheckId, cx: &Cx<'_, '_>, params: &Params, now: DateTime<Utc>) -> Verdict {
    match check {
        CheckId::Replicas => availability::replicas(cx, params),
        CheckId::Probes => availability::probes(cx),
        CheckId::Spread => availability::spread(cx, params),
        CheckId::Resources => hardening::resources(cx),
        CheckId::DrainCapacity => availability::drain_capacity(cx),
        CheckId::DisruptionBudget => availability::disruption_budget(cx),
        CheckId::GracefulShutdown => availability::graceful_shutdown(cx, params),
        CheckId::Rollout => availability::rollout(cx),
        CheckId::NonRoot => hardening::non_root(cx),
        CheckId::NetworkPolicy => hardening::network_policy(cx),
        CheckId::Image => hardening::image(cx, params),
        CheckId::QosPriority => hardening::qos_priority(cx, params),
        CheckId::ServiceAccount => hardening::service_account(cx),
        CheckId::MetricsAlerts => operations::metrics_alerts(cx),
        CheckId::Tls => operations::tls(cx, params, now),
        // Answered per namespace in `evaluate`.
        CheckId::Backups => Verdict::na("backups are checked per namespace"),
    }
}

/// The namespaces namespace-wide checks answer for: the snapshot's list, else every namespace
/// seen among Namespace objects and workloads.
fn namespaces<'a>(snapshot: &'a Snapshot, ws: &[Workload<'a>]) -> Vec<&'a str> {
    if !snapshot.namespaces.is_empty() {
        let set: BTreeSet<&str> = snapshot.namespaces.iter().map(String::as_str).collect();
        return set.into_iter().collect();
    }
    let mut set: BTreeSet<&str> = ws.iter().map(|w| w.namespace).collect();
    for n in snapshot.namespace_objects.items_or_empty() {
        if let Some(name) = n.metadata.name.as_deref() {
            set.insert(name);
        }
    }
    set.into_iter().collect()
}

/// A percentage or count resolved against a total (`"25%"` of 4 = 1 when rounding down).
pub(crate) fn scaled(v: &IntOrString, total: i32, round_up: bool) -> Option<i32> {
    match v {
        IntOrString::Int(i) => Some(*i),
        IntOrString::String(s) => {
            let pct: f64 = s.trim().strip_suffix('%')?.trim().parse().ok()?;
            let x = pct * f64::from(total) / 100.0;
            Some(if round_up { x.ceil() } else { x.floor() } as i32)
        }
    }
}

pub(crate) fn ios_display(v: &IntOrString) -> Value {
    match v {
        IntOrString::Int(i) => Value::from(*i),
        IntOrString::String(s) => Value::from(s.as_str()),
    }
}

/// Up to `n` items joined, with "and N more".
pub(crate) fn list_some(items: &[String], n: usize) -> String {
    if items.len() <= n {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..n].join(", "), items.len() - n)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::testing::*;
    use super::*;

    #[test]
    fn workloads_cover_every_kind_and_skip_jobs_of_cron_jobs() {
        let mut s = healthy_shop();
        let template =
            json!({"metadata": {"labels": {"app": "report"}}, "spec": good_pod_spec("report")});
        s.cron_jobs.push(obj(json!({
            "metadata": {"name": "report", "namespace": "shop"},
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
        })));
        s.jobs.push(obj(json!({
            "metadata": {"name": "report-29000000", "namespace": "shop",
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report", "uid": "1"}]},
            "spec": {"template": template}
        })));
        s.jobs.push(obj(json!({"metadata": {"name": "migrate", "namespace": "shop"}, "spec": {"template": template}})));
        s.pods.push(obj(json!({
            "metadata": {"name": "report-29000000-x", "namespace": "shop", "labels": {"app": "report"},
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "report-29000000", "uid": "2"}]},
            "spec": good_pod_spec("report"),
            "status": {"phase": "Succeeded"}
        })));
        let ws = workloads(&s);
        let names: Vec<String> = ws
            .iter()
            .map(|w| format!("{}/{}", w.kind.as_str(), w.name))
            .collect();
        assert_eq!(names, ["Deployment/cart", "CronJob/report", "Job/migrate"]);
        let idx = Index::new(&s);
        assert_eq!(idx.pods_of(&ws[0]).len(), 2);
        assert_eq!(idx.pods_of(&ws[1]).len(), 1);
        assert_eq!(ws[1].template_path, "spec.jobTemplate.spec.template.spec");
        let r = result_for(&s, CheckId::Replicas, "report");
        assert_eq!(r.outcome, Outcome::NotApplicable);
    }

    /// A Pod `name` labelled `app=shop` on `node`, controlled by `owner` (kind, name) when given.
    fn shop_pod(name: &str, node: &str, owner: Option<(&str, &str)>) -> Pod {
        let mut p = pod(name, "shop", node, good_pod_spec("shop"));
        p.metadata.owner_references = owner.map(|(kind, owner)| {
            vec![obj(
                json!({"apiVersion": "apps/v1", "kind": kind, "name": owner,
                            "uid": format!("{kind}-{owner}"), "controller": true}),
            )]
        });
        p
    }

    /// Workloads that all select `app=shop`: Deployments `web` and `web-api`, StatefulSet
    /// `worker`, Job `migrate` and CronJob `report`, each with a Pod it controls, and a bare Pod.
    fn workloads_sharing_a_selector() -> Snapshot {
        let spec = good_pod_spec("shop");
        let template = json!({"metadata": {"labels": {"app": "shop"}}, "spec": spec});
        let selector = json!({"matchLabels": {"app": "shop"}});
        let mut s = Snapshot {
            namespaces: vec!["shop".into()],
            ..Snapshot::default()
        };
        for name in ["web", "web-api"] {
            s.deployments.push(obj(json!({
                "metadata": {"name": name, "namespace": "shop"},
                "spec": {"replicas": 1, "selector": selector, "template": template}
            })));
        }
        s.stateful_sets.push(obj(json!({
            "metadata": {"name": "worker", "namespace": "shop"},
            "spec": {"replicas": 1, "serviceName": "worker", "selector": selector, "template": template}
        })));
        s.jobs.push(obj(json!({
            "metadata": {"name": "migrate", "namespace": "shop"},
            "spec": {"selector": selector, "template": template}
        })));
        s.cron_jobs.push(obj(json!({
            "metadata": {"name": "report", "namespace": "shop"},
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
        })));
        s.pods.push(shop_pod(
            "web-6d4f9c-x1",
            "n1",
            Some(("ReplicaSet", "web-6d4f9c")),
        ));
        s.pods.push(shop_pod(
            "web-api-7b8c5d-y2",
            "n2",
            Some(("ReplicaSet", "web-api-7b8c5d")),
        ));
        s.pods
            .push(shop_pod("worker-0", "n2", Some(("StatefulSet", "worker"))));
        s.pods
            .push(shop_pod("migrate-z3", "n3", Some(("Job", "migrate"))));
        s.pods.push(shop_pod(
            "report-29000000-q4",
            "n3",
            Some(("Job", "report-29000000")),
        ));
        s.pods.push(shop_pod("debug", "n1", None));
        s.nodes.push(node("n1", "z1", "4", "8Gi"));
        s.nodes.push(node("n2", "z2", "4", "8Gi"));
        s.nodes.push(node("n3", "z2", "4", "8Gi"));
        s
    }

    #[test]
    fn workloads_sharing_selector_labels_keep_the_pods_they_control() {
        let s = workloads_sharing_a_selector();
        let idx = Index::new(&s);
        let pods: Vec<String> = workloads(&s)
            .iter()
            .map(|w| {
                let names: Vec<&str> = idx
                    .pods_of(w)
                    .iter()
                    .map(|p| name_of(&p.metadata))
                    .collect();
                format!("{} {}: {}", w.kind.as_str(), w.name, names.join(" "))
            })
            .collect();
        assert_eq!(
            pods,
            [
                // A Pod that names no controller is still matched by the selector.
                "Deployment web: web-6d4f9c-x1 debug",
                "Deployment web-api: web-api-7b8c5d-y2 debug",
                "StatefulSet worker: worker-0 debug",
                "CronJob report: report-29000000-q4",
                "Job migrate: migrate-z3 debug",
            ]
        );
    }

    #[test]
    fn a_deployment_is_not_spread_by_the_pods_of_a_worker_sharing_its_labels() {
        // web runs one Pod, on n1; worker's Pod on n2 carries the same labels.
        let mut s = workloads_sharing_a_selector();
        if let Source::Read(ds) = &mut s.deployments {
            ds.retain(|d| d.metadata.name.as_deref() == Some("web"));
            if let Some(spec) = ds.first_mut().and_then(|d| d.spec.as_mut()) {
                spec.replicas = Some(2);
            }
        }
        if let Source::Read(pods) = &mut s.pods {
            pods.retain(|p| p.metadata.name.as_deref() != Some("debug"));
        }
        s.pods.push(shop_pod(
            "web-6d4f9c-x2",
            "n1",
            Some(("ReplicaSet", "web-6d4f9c")),
        ));
        let r = result_for(&s, CheckId::Spread, "web");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains("all 2 running Pods are on node n1"),
            "{}",
            r.message
        );
    }

    #[test]
    fn the_pods_judged_are_evidence_objects_up_to_a_limit_with_a_count_of_the_rest() {
        let r = result_for(&healthy_shop(), CheckId::NonRoot, "cart");
        let pods: Vec<&str> = r
            .evidence
            .objects
            .iter()
            .filter(|o| o.kind == "Pod")
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(pods, ["cart-a", "cart-b"]);
        assert!(!r.evidence.values.contains_key("pods_not_listed"));

        let mut s = healthy_shop();
        let spec = good_pod_spec("cart");
        s.pods = Source::Read(
            (0..25)
                .map(|i| {
                    let node = if i % 2 == 0 { "n1" } else { "n2" };
                    let mut p = pod(&format!("cart-{i:02}"), "cart", node, spec.clone());
                    p.metadata.resource_version = Some((100 + i).to_string());
                    p
                })
                .collect(),
        );
        for check in [
            CheckId::Resources,
            CheckId::NonRoot,
            CheckId::Image,
            CheckId::QosPriority,
            CheckId::ServiceAccount,
            CheckId::NetworkPolicy,
        ] {
            let r = result_for(&s, check, "cart");
            let pods: Vec<&ObjectRef> = r
                .evidence
                .objects
                .iter()
                .filter(|o| o.kind == "Pod")
                .collect();
            assert_eq!(pods.len(), POD_REFS, "{check}: {:?}", r.evidence.objects);
            assert_eq!(
                pods[0],
                &ObjectRef {
                    kind: "Pod".into(),
                    namespace: Some("shop".into()),
                    name: "cart-00".into(),
                    resource_version: Some("100".into()),
                },
                "{check}"
            );
            assert_eq!(
                r.evidence.values.get("pods_not_listed"),
                Some(&json!(5)),
                "{check}"
            );
        }
    }

    #[test]
    fn an_unreadable_workload_kind_is_reported_as_an_error() {
        let mut s = healthy_shop();
        s.stateful_sets = Source::Forbidden("list statefulsets in shop".into());
        let results = check(&s, CheckId::Replicas);
        let err = results.iter().find(|r| r.subject.kind == "StatefulSet");
        assert!(err.is_some_and(
            |r| r.outcome == Outcome::Error && r.message.contains("cannot list statefulsets")
        ));
    }

    /// A default-deny NetworkPolicy in `shop`, and none of the optional add-ons (Prometheus
    /// operator, Velero) installed: what the healthy shop needs to pass every check.
    fn with_deny_policy_and_no_add_ons(s: &mut Snapshot) {
        s.network_policies.push(obj(json!({
            "metadata": {"name": "deny", "namespace": "shop"}, "spec": {"podSelector": {}}
        })));
        s.service_monitors = Source::NotInstalled;
        s.pod_monitors = Source::NotInstalled;
        s.prometheus_rules = Source::NotInstalled;
        s.velero_schedules = Source::NotInstalled;
        s.velero_backups = Source::NotInstalled;
    }

    #[test]
    fn the_healthy_shop_passes_every_check_that_applies() {
        let mut s = healthy_shop();
        with_deny_policy_and_no_add_ons(&mut s);
        let all = every_check();
        let results = evaluate(&s, &all, now());
        assert_eq!(results.len(), 16);
        for r in &results {
            assert!(
                matches!(r.outcome, Outcome::Pass | Outcome::NotApplicable),
                "{} {:?}: {}",
                r.check,
                r.outcome,
                r.message
            );
        }
    }

    #[test]
    fn workload_notes_reach_the_message() {
        let mut s = Snapshot::default();
        s.rollouts.push(json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 1, "workloadRef": {"kind": "Deployment", "name": "web"}}
        }));
        let r = result_for(&s, CheckId::Replicas, "web");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.message.contains("workloadRef"), "{}", r.message);
    }

    /// A Rollout that borrows a Deployment's pod template (spec.workloadRef), with the
    /// Deployment scaled to 0 by Argo, as `kubectl get -o json` shows them.
    fn shop_with_workload_ref() -> Snapshot {
        let mut s = healthy_shop();
        let spec = good_pod_spec("web");
        let mut d: serde_json::Value = json!({
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}},
            "status": {"observedGeneration": 3}
        });
        d["spec"]["strategy"] = json!({"type": "RollingUpdate"});
        s.deployments.push(obj(d));
        s.rollouts.push(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "9"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "scaleDown": "onsuccess"},
                     "strategy": {"canary": {"maxUnavailable": 0, "maxSurge": 1}}},
            "status": {"replicas": 2, "readyReplicas": 2}
        }));
        for (p, n) in [("web-6d4f-a", "n1"), ("web-6d4f-b", "n2")] {
            let mut pod = pod(p, "web", n, spec.clone());
            if let Some(l) = pod.metadata.labels.as_mut() {
                l.insert("rollouts-pod-template-hash".into(), "6d4f".into());
            }
            s.pods.push(pod);
        }
        with_deny_policy_and_no_add_ons(&mut s);
        s
    }

    #[test]
    fn a_rollout_with_a_workload_ref_is_judged_on_the_deployments_template() {
        let s = shop_with_workload_ref();
        let all = every_check();
        let results = evaluate(&s, &all, now());
        let rollout: Vec<&CheckResult> = results
            .iter()
            .filter(|r| r.subject.kind == "Rollout")
            .collect();
        assert_eq!(
            rollout.len(),
            15,
            "every workload check answers for the Rollout"
        );
        for r in &rollout {
            assert!(
                matches!(r.outcome, Outcome::Pass | Outcome::NotApplicable),
                "{} {:?}: {}",
                r.check,
                r.outcome,
                r.message
            );
            assert!(
                r.evidence.objects.iter().any(|o| o.kind == "Deployment"
                    && o.name == "web"
                    && o.resource_version.as_deref() == Some("7")),
                "{}: the Deployment read is evidence: {:?}",
                r.check,
                r.evidence.objects
            );
            assert!(
                r.message.contains("Deployment shop/web (spec.workloadRef)"),
                "{}",
                r.message
            );
        }
        let probes = rollout.iter().find(|r| r.check == CheckId::Probes);
        assert!(probes.is_some_and(|r| r.outcome == Outcome::Pass));
        // The Deployment Argo scaled to 0 is managed by the Rollout: it is not judged on its own
        // replicas (nor on anything else).
        assert!(
            !results
                .iter()
                .any(|r| r.subject.kind == "Deployment" && r.subject.name == "web"),
            "{:?}",
            results
                .iter()
                .filter(|r| r.subject.name == "web" && r.subject.kind == "Deployment")
                .map(|r| (r.check, r.outcome, &r.message))
                .collect::<Vec<_>>()
        );
        // cart, a plain Deployment, is still judged.
        assert_eq!(
            result_for(&s, CheckId::Replicas, "cart").outcome,
            Outcome::Pass
        );
    }

    #[test]
    fn a_workload_ref_rollout_judges_the_referenced_template_and_takes_its_selector() {
        let mut s = shop_with_workload_ref();
        // A broken template in the Deployment shows on the Rollout, with a path to fix it.
        if let Source::Read(ds) = &mut s.deployments {
            for d in ds
                .iter_mut()
                .filter(|d| d.metadata.name.as_deref() == Some("web"))
            {
                if let Some(spec) = d.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
                    spec.containers[0].readiness_probe = None;
                }
            }
        }
        // No selector on the Rollout: Argo takes the Deployment's.
        if let Some(spec) = s.rollouts.items().and_then(|r| r.first()).cloned() {
            let mut r = spec;
            if let Some(o) = r.pointer_mut("/spec").and_then(|v| v.as_object_mut()) {
                o.remove("selector");
            }
            s.rollouts = Source::Read(vec![r]);
        }
        let probes = check(&s, CheckId::Probes);
        let web: Vec<&CheckResult> = probes.iter().filter(|r| r.subject.name == "web").collect();
        assert_eq!(web.len(), 1, "only the Rollout answers: {web:?}");
        assert_eq!(web[0].subject.kind, "Rollout");
        assert_eq!(web[0].outcome, Outcome::Fail, "{}", web[0].message);
        assert!(web[0].message.contains("readiness"), "{}", web[0].message);
        let spread = result_for(&s, CheckId::Spread, "web");
        assert_eq!(
            spread.outcome,
            Outcome::Pass,
            "the Pods were found: {}",
            spread.message
        );
    }

    #[test]
    fn a_workload_ref_to_a_missing_deployment_says_so() {
        let mut s = shop_with_workload_ref();
        if let Source::Read(ds) = &mut s.deployments {
            ds.retain(|d| d.metadata.name.as_deref() != Some("web"));
        }
        let r = result_for(&s, CheckId::Probes, "web");
        assert_eq!(r.subject.kind, "Rollout");
        assert!(
            r.message
                .contains("names Deployment shop/web, which was not found"),
            "{}",
            r.message
        );
    }

    /// healthy_shop with cart's Deployment changed by `change` (its JSON): the running Pods
    /// stay those of the old, compliant template.
    fn shop_with_cart(change: impl FnOnce(&mut Value)) -> Snapshot {
        let mut s = healthy_shop();
        let mut d =
            serde_json::to_value(deployment("cart", 2, good_pod_spec("cart"))).unwrap_or_default();
        change(&mut d);
        s.deployments = Source::Read(vec![obj(d)]);
        s
    }

    /// A template that now runs `:latest`, privileged.
    fn break_template(d: &mut Value) {
        let c = &mut d["spec"]["template"]["spec"]["containers"][0];
        c["image"] = json!("registry.example.com/shop/cart:latest");
        c["securityContext"]["privileged"] = json!(true);
    }

    #[test]
    fn a_paused_deployment_whose_template_runs_latest_privileged_fails_though_its_old_pods_pass() {
        let s = shop_with_cart(|d| {
            d["spec"]["paused"] = json!(true);
            break_template(d);
        });
        for check in [CheckId::Image, CheckId::NonRoot] {
            let r = result_for(&s, check, "cart");
            assert_eq!(r.outcome, Outcome::Fail, "{check}: {}", r.message);
            for said in [
                "in the pod template (spec.template.spec), not yet in the 2 running Pod(s)",
                "the next rollout brings it",
                "spec.paused is true",
            ] {
                assert!(r.message.contains(said), "{check}: {}", r.message);
            }
            assert!(
                r.evidence
                    .objects
                    .iter()
                    .any(|o| o.kind == "Deployment" && o.name == "cart"),
                "{check}: {:?}",
                r.evidence.objects
            );
            assert!(
                r.evidence.values["in_pod_template_only"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty()),
                "{check}: {:?}",
                r.evidence.values
            );
            assert_eq!(
                r.evidence.values["rollout_pending"],
                json!("spec.paused is true")
            );
        }
    }

    #[test]
    fn a_rollout_in_progress_is_judged_on_its_template_and_its_pods() {
        // The controller has not acted on the new template yet.
        let behind = shop_with_cart(|d| {
            d["metadata"]["generation"] = json!(5);
            d["status"]["observedGeneration"] = json!(4);
            break_template(d);
        });
        let r = result_for(&behind, CheckId::Image, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("status.observedGeneration 4 is behind metadata.generation 5"),
            "{}",
            r.message
        );
        // Pods of the new template are being created: 1 of 2 is updated, 3 run.
        let mut rolling = shop_with_cart(|d| {
            d["metadata"]["generation"] = json!(5);
            d["status"] = json!({"observedGeneration": 5, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2});
            break_template(d);
        });
        let mut new_spec = good_pod_spec("cart");
        new_spec["containers"][0]["image"] = json!("registry.example.com/shop/cart:latest");
        new_spec["containers"][0]["securityContext"]["privileged"] = json!(true);
        rolling.pods.push(pod("cart-new", "cart", "n3", new_spec));
        if let Source::Read(ds) = &mut rolling.deployments
            && let Some(spec) = ds[0].spec.as_mut().and_then(|s| s.template.spec.as_mut())
        {
            // Changed again since cart-new was created.
            spec.host_network = Some(true);
        }
        let r = result_for(&rolling, CheckId::Image, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("in the pod template and 1 of 3 running Pod(s) (e.g. cart-new)"),
            "{}",
            r.message
        );
        assert!(
            r.message.contains("status.updatedReplicas is 1 of 2"),
            "{}",
            r.message
        );
        // The new Pod has the tag, so nothing is the template's alone.
        assert!(!r.evidence.values.contains_key("in_pod_template_only"));
        // hostNetwork is only in the template; privileged is in cart-new too.
        let r = result_for(&rolling, CheckId::NonRoot, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("in the pod template and 1 of 3 running Pod(s)")
                && r.message.contains("of them only in the pod template")
                && r.message.contains("which the next rollout brings"),
            "{}",
            r.message
        );
        let only = r.evidence.values["in_pod_template_only"].to_string();
        assert!(
            only.contains("hostNetwork") && !only.contains("privileged"),
            "{only}"
        );
    }

    #[test]
    fn a_complete_rollout_keeps_the_running_pods_as_the_truth() {
        // A webhook added the requests to the Pods; the template lacks them. The rollout is
        // complete, so the Pods say what runs.
        let s = shop_with_cart(|d| {
            d["metadata"]["generation"] = json!(5);
            d["status"] = json!({"observedGeneration": 5, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2});
            d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] = json!({});
        });
        let r = result_for(&s, CheckId::Resources, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        // The same template with a rollout under way is judged too.
        let s = shop_with_cart(|d| {
            d["metadata"]["generation"] = json!(5);
            d["status"] = json!({"observedGeneration": 5, "replicas": 2, "readyReplicas": 2});
            d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] = json!({});
            d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] = json!({});
        });
        let r = result_for(&s, CheckId::Resources, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        // Kubernetes leaves a zero count out of a status its controller wrote.
        assert!(
            r.message.contains("status.updatedReplicas is 0 of 2"),
            "{}",
            r.message
        );
    }

    #[test]
    fn a_status_without_observed_generation_proves_no_rollout_pending() {
        // Hand-written (or very old) status: missing counts are unknown, not 0.
        let s = healthy_shop();
        let ws = workloads(&s);
        assert_eq!(ws[0].rollout_pending, None);
        assert_eq!(
            result_for(&s, CheckId::Image, "cart").evidence.values["judged"],
            json!("running Pods")
        );
    }

    #[test]
    fn a_stateful_set_between_revisions_is_judged_on_its_template_too() {
        let mut s = healthy_shop();
        s.deployments = Source::Read(Vec::new());
        let mut template = good_pod_spec("cart");
        template["containers"][0]["image"] = json!("registry.example.com/shop/cart");
        s.stateful_sets.push(obj(json!({
            "metadata": {"name": "cart", "namespace": "shop", "generation": 2},
            "spec": {"replicas": 2, "serviceName": "cart", "selector": {"matchLabels": {"app": "cart"}},
                     "updateStrategy": {"type": "OnDelete"},
                     "template": {"metadata": {"labels": {"app": "cart"}}, "spec": template}},
            "status": {"observedGeneration": 2, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 0,
                       "currentRevision": "cart-1", "updateRevision": "cart-2"}
        })));
        let r = result_for(&s, CheckId::Image, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("status.currentRevision cart-1 is not status.updateRevision cart-2"),
            "{}",
            r.message
        );
        assert!(r.message.contains("has no tag"), "{}", r.message);
    }

    #[test]
    fn a_paused_deployment_whose_template_mounts_the_default_token_fails_service_account() {
        let s = shop_with_cart(|d| {
            d["spec"]["paused"] = json!(true);
            d["spec"]["template"]["spec"]["automountServiceAccountToken"] = json!(true);
        });
        let r = result_for(&s, CheckId::ServiceAccount, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains("not yet in the 2 running Pod(s)")
                && r.message.contains("the next rollout brings it"),
            "{}",
            r.message
        );
        assert!(r.evidence.objects.iter().any(|o| o.kind == "Deployment"));
        // Not paused (and no status to say a rollout is under way): the Pods decide.
        let s = shop_with_cart(|d| {
            d["spec"]["template"]["spec"]["automountServiceAccountToken"] = json!(true);
        });
        let r = result_for(&s, CheckId::ServiceAccount, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
    }

    #[test]
    fn an_argo_canary_not_yet_stable_is_judged_on_its_template_too() {
        let mut s = healthy_shop();
        s.deployments = Source::Read(Vec::new());
        let mut template = good_pod_spec("cart");
        template["containers"][0]["image"] = json!("registry.example.com/shop/cart:latest");
        let rollout = |status: Value| {
            json!({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "metadata": {"name": "cart", "namespace": "shop", "generation": 3},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "cart"}},
                         "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}},
                         "template": {"metadata": {"labels": {"app": "cart"}}, "spec": template}},
                "status": status
            })
        };
        s.rollouts = Source::Read(vec![rollout(json!({
            "observedGeneration": "3", "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
            "stableRS": "6d4f9c", "currentPodHash": "7b8c5d",
            "pauseConditions": [{"reason": "CanaryPauseStep"}]
        }))]);
        let r = result_for(&s, CheckId::Image, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("status.stableRS 6d4f9c is not status.currentPodHash 7b8c5d")
                && r.message.contains("status.pauseConditions CanaryPauseStep"),
            "{}",
            r.message
        );
        // Promoted: the stable Pods are the truth.
        s.rollouts = Source::Read(vec![rollout(json!({
            "observedGeneration": "3", "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
            "stableRS": "7b8c5d", "currentPodHash": "7b8c5d"
        }))]);
        let r = result_for(&s, CheckId::Image, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
    }

    #[test]
    fn a_template_naming_no_priority_class_mid_rollout_is_not_a_finding_of_its_own() {
        // Admission gives the new Pods the globalDefault class, as it gave the running ones.
        let s = shop_with_cart(|d| {
            d["spec"]["paused"] = json!(true);
            d["spec"]["template"]["spec"]
                .as_object_mut()
                .map(|m| m.remove("priorityClassName"));
        });
        let r = result_for(&s, CheckId::QosPriority, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
    }
}

#[cfg(test)]
mod scale {
    use serde_json::json;

    use super::testing::*;
    use super::*;

    /// Enough workloads to take the threaded path (the timing at 10,000 workloads is measured by
    /// `scripts/bench-checks`): every check, split over threads, answers exactly as on one thread.
    #[test]
    fn a_large_snapshot_split_over_threads_gives_the_same_results_in_the_same_order() {
        const _: () = assert!(
            60 * 10 >= PARALLEL_FROM,
            "600 workloads take the threaded path"
        );
        let mut s = Snapshot::default();
        for n in 0..100 {
            s.nodes
                .push(node(&format!("n{n}"), &format!("z{}", n % 3), "16", "64Gi"));
        }
        let mut pod_count = 0;
        for ns in 0..60 {
            let namespace = format!("team-{ns}");
            for w in 0..10 {
                let name = format!("app-{w}");
                let mut d: serde_json::Value = json!({
                    "metadata": {"name": name, "namespace": namespace, "resourceVersion": "1"},
                    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                             "template": {"metadata": {"labels": {"app": name}}, "spec": good_pod_spec(&name)}},
                    "status": {"readyReplicas": 2}
                });
                let replicas = if w < 5 { 3 } else { 2 };
                d["spec"]["replicas"] = json!(replicas);
                s.deployments.push(obj(d));
                for r in 0..replicas {
                    let mut p = pod(
                        &format!("{name}-{r}"),
                        &name,
                        &format!("n{}", (ns * 7 + w * 3 + r) % 100),
                        good_pod_spec(&name),
                    );
                    p.metadata.namespace = Some(namespace.clone());
                    s.pods.push(p);
                    pod_count += 1;
                }
            }
            s.network_policies.push(obj(json!({"metadata": {"name": "deny", "namespace": namespace}, "spec": {"podSelector": {}}})));
            s.services.push(obj(json!({"metadata": {"name": "app-0", "namespace": namespace}, "spec": {"selector": {"app": "app-0"}}})));
        }
        let all = every_check();
        let split = evaluate_on(&s, &all, now(), 4);
        let single = evaluate_on(&s, &all, now(), 1);
        assert_eq!(split.len(), 15 * 600 + 60, "{pod_count} pods");
        assert_eq!(split, single);
    }

    #[test]
    fn a_narrowed_shared_snapshot_gives_each_application_the_verdicts_of_its_own_read() {
        // The test cluster's manifests: shop and payments, Velero in its own namespace. A read
        // of one application's namespaces holds its own objects and the cluster-wide ones.
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cluster");
        let read = |files: &[&str]| {
            let paths: Vec<_> = files.iter().map(|f| dir.join(f)).collect();
            match crate::manifests::snapshot_from_paths(&paths) {
                Ok(set) => set.snapshot,
                Err(e) => panic!("the test cluster's manifests do not read: {e}"),
            }
        };
        let shared = [
            "crds.yaml",
            "monitoring.yaml",
            "namespaces.yaml",
            "nodes.yaml",
            "velero.yaml",
        ];
        let mut whole = read(
            &[
                &shared[..],
                &[
                    "payments.yaml",
                    "shop-cart.yaml",
                    "shop-legacy.yaml",
                    "shop-namespace.yaml",
                ],
            ]
            .concat(),
        );
        // As a live read of both: nothing else runs on the nodes.
        whole.node_loads = Source::Read(Vec::new());
        let apps = [
            (
                "shop",
                vec!["shop-cart.yaml", "shop-legacy.yaml", "shop-namespace.yaml"],
            ),
            ("payments", vec!["payments.yaml"]),
        ];
        for (namespace, files) in apps {
            let namespaces = vec![namespace.to_string()];
            let mut own_read = Snapshot {
                namespaces: namespaces.clone(),
                ..read(&[&shared[..], &files].concat())
            };
            // A live read finds the add-ons' CRDs installed and lists nothing where none of
            // their objects are; files alone cannot tell an add-on is installed.
            let installed = |own: &mut Source<crate::snapshot::Custom>,
                             whole: &Source<crate::snapshot::Custom>| {
                if *own == Source::NotInstalled && whole.items().is_some() {
                    *own = Source::Read(Vec::new());
                }
            };
            installed(&mut own_read.service_monitors, &whole.service_monitors);
            installed(&mut own_read.pod_monitors, &whole.pod_monitors);
            installed(&mut own_read.prometheus_rules, &whole.prometheus_rules);
            installed(&mut own_read.certificates, &whole.certificates);
            installed(&mut own_read.rollouts, &whole.rollouts);
            // A live read of one application counts the other namespaces' Pods on the nodes.
            let mut loads = crate::snapshot::Loads::default();
            for p in whole.pods.items_or_empty() {
                if p.metadata.namespace.as_deref() != Some(namespace) {
                    loads.add(p);
                }
            }
            own_read.node_loads = Source::Read(loads.into_vec());
            let narrowed = whole.narrowed_to(&namespaces);
            assert_eq!(narrowed.node_loads, own_read.node_loads, "{namespace}");
            assert!(
                narrowed
                    .pods
                    .items_or_empty()
                    .iter()
                    .all(|p| p.metadata.namespace.as_deref() == Some(namespace))
            );
            assert_eq!(narrowed.nodes, whole.nodes);
            // The monitors of the monitoring namespace go with the namespaces they watch.
            let monitors: Vec<&str> = narrowed
                .service_monitors
                .items_or_empty()
                .iter()
                .filter_map(|m| jstr(m, "/metadata/name"))
                .collect();
            let expected_monitors = match namespace {
                "shop" => ["cart"],
                _ => ["payments-ledger"],
            };
            assert_eq!(monitors, expected_monitors, "{namespace}");
            assert_eq!(narrowed.velero_schedules, whole.velero_schedules);
            let expected = evaluate(&own_read, &every_check(), now());
            assert!(expected.len() > 10, "{namespace}: {expected:?}");
            assert_eq!(
                evaluate(&narrowed, &every_check(), now()),
                expected,
                "{namespace}"
            );
        }
        // What could not be read stays unreadable in every part.
        let mut broken = whole.clone();
        broken.pod_disruption_budgets = Source::Forbidden("list poddisruptionbudgets".into());
        assert_eq!(
            broken.narrowed_to(&["shop".into()]).pod_disruption_budgets,
            Source::Forbidden("list poddisruptionbudgets".into())
        );
    }
}
