//! Demarc's go-live checks.
//!
//! The model below (check ids, outcomes, results with evidence) is plain serde and compiles
//! everywhere, the wasm UI included. Behind the `engine` feature: [`snapshot::Snapshot`] (the
//! cluster objects one verification looks at), [`engine::evaluate`] (a pure function from a
//! snapshot to results) and the offline readers; behind `live`: the reader that builds a
//! snapshot from a running cluster through the kube client.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod catalog;

#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub mod manifests;
#[cfg(feature = "engine")]
pub mod report;
#[cfg(feature = "engine")]
pub mod snapshot;

#[cfg(feature = "live")]
pub mod cluster;

/// One automatic check of the go-live checklist (shared/DOMAIN.md section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    Replicas,
    Probes,
    Spread,
    Resources,
    DrainCapacity,
    DisruptionBudget,
    GracefulShutdown,
    Rollout,
    NonRoot,
    NetworkPolicy,
    Image,
    QosPriority,
    ServiceAccount,
    MetricsAlerts,
    Backups,
    Tls,
}

impl CheckId {
    pub const ALL: [CheckId; 16] = [
        CheckId::Replicas,
        CheckId::Probes,
        CheckId::Spread,
        CheckId::Resources,
        CheckId::DrainCapacity,
        CheckId::DisruptionBudget,
        CheckId::GracefulShutdown,
        CheckId::Rollout,
        CheckId::NonRoot,
        CheckId::NetworkPolicy,
        CheckId::Image,
        CheckId::QosPriority,
        CheckId::ServiceAccount,
        CheckId::MetricsAlerts,
        CheckId::Backups,
        CheckId::Tls,
    ];

    /// The id as written in templates, the REST API and the command line (`drain_capacity`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Replicas => "replicas",
            CheckId::Probes => "probes",
            CheckId::Spread => "spread",
            CheckId::Resources => "resources",
            CheckId::DrainCapacity => "drain_capacity",
            CheckId::DisruptionBudget => "disruption_budget",
            CheckId::GracefulShutdown => "graceful_shutdown",
            CheckId::Rollout => "rollout",
            CheckId::NonRoot => "non_root",
            CheckId::NetworkPolicy => "network_policy",
            CheckId::Image => "image",
            CheckId::QosPriority => "qos_priority",
            CheckId::ServiceAccount => "service_account",
            CheckId::MetricsAlerts => "metrics_alerts",
            CheckId::Backups => "backups",
            CheckId::Tls => "tls",
        }
    }

    pub fn parse(s: &str) -> Option<CheckId> {
        CheckId::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict of one check on one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    /// Passes, with something worth knowing (e.g. a certificate expiring in 40 days).
    Warn,
    Fail,
    /// The check does not apply (a DaemonSet has no replica count, the CRD is not installed).
    NotApplicable,
    /// The check could not be answered: permission denied, object unreadable, cluster gone.
    /// Never counted as a failure of the application, nor as a pass: a run that requires the
    /// check does not pass on it (see `report`), and a review item keeps its status.
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "not_applicable",
            Outcome::Error => "error",
        }
    }

    /// How results of one check over several objects combine: the worst wins, where
    /// fail > error > warn > pass > not applicable.
    pub fn severity(self) -> u8 {
        match self {
            Outcome::NotApplicable => 0,
            Outcome::Pass => 1,
            Outcome::Warn => 2,
            Outcome::Error => 3,
            Outcome::Fail => 4,
        }
    }

    pub fn combine(results: impl IntoIterator<Item = Outcome>) -> Outcome {
        results
            .into_iter()
            .max_by_key(|o| o.severity())
            .unwrap_or(Outcome::NotApplicable)
    }
}

/// A Kubernetes object that a check read, as evidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ObjectRef {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// What a check looked at: the objects read and the values seen (`"spec.replicas": 1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub objects: Vec<ObjectRef>,
    #[cfg_attr(feature = "schema", schema(value_type = Object))]
    pub values: BTreeMap<String, serde_json::Value>,
}

/// One check's verdict on one workload (or namespace, for namespace-wide checks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct CheckResult {
    pub check: CheckId,
    /// The workload (Deployment, StatefulSet, DaemonSet, CronJob, Job, Rollout) or, for
    /// namespace-wide checks, the Namespace the verdict is about.
    pub subject: ObjectRef,
    pub outcome: Outcome,
    /// A message a developer can act on: what was seen and what to change.
    pub message: String,
    pub evidence: Evidence,
}

/// The parameters of the automatic checks, as a checklist item stores them. Every field is
/// optional; the engine applies the default written on each field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// replicas, spread: the effective minimum replica count (default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<u32>,
    /// graceful_shutdown: the longest acceptable terminationGracePeriodSeconds (default 120).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_grace_period_seconds: Option<u32>,
    /// image: registries images may come from (`registry.example.com`, `ghcr.io/acme`);
    /// empty allows any registry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_registries: Vec<String>,
    /// qos_priority: require the Guaranteed QoS class (requests == limits) (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_guaranteed: Option<bool>,
    /// qos_priority: priority classes accepted; empty means "any priorityClassName set".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub priority_classes: Vec<String>,
    /// tls: a certificate expiring sooner than this many days fails (default 14); within twice
    /// that it warns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_certificate_days: Option<u32>,
    /// backups: the recovery point objective, the oldest acceptable last completed backup in
    /// hours (default 24).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpo_hours: Option<u32>,
}

impl Params {
    /// The minimum replica count of `replicas` and `spread` when none is set.
    pub const DEFAULT_MIN_REPLICAS: u32 = 2;
    /// The longest acceptable grace period of `graceful_shutdown` when none is set.
    pub const DEFAULT_MAX_GRACE_PERIOD_SECONDS: u32 = 120;
    /// The certificate lifetime `tls` requires when none is set.
    pub const DEFAULT_MIN_CERTIFICATE_DAYS: u32 = 14;
    /// The recovery point objective of `backups` when none is set.
    pub const DEFAULT_RPO_HOURS: u32 = 24;

    /// The parameters `check` reads, with the values it will use (a value equal to its default
    /// reads as unset), the others left out: what two runs of that check must share to give
    /// the same verdicts.
    pub fn for_check(&self, check: CheckId) -> Params {
        let mut only = self.clone().without_defaults().only_for(check);
        only.allowed_registries.sort();
        only.priority_classes.sort();
        only
    }

    fn without_defaults(mut self) -> Params {
        let unset_if = |v: Option<u32>, default: u32| v.filter(|v| *v != default);
        self.min_replicas = unset_if(self.min_replicas, Self::DEFAULT_MIN_REPLICAS);
        self.max_grace_period_seconds = unset_if(
            self.max_grace_period_seconds,
            Self::DEFAULT_MAX_GRACE_PERIOD_SECONDS,
        );
        self.min_certificate_days = unset_if(
            self.min_certificate_days,
            Self::DEFAULT_MIN_CERTIFICATE_DAYS,
        );
        self.rpo_hours = unset_if(self.rpo_hours, Self::DEFAULT_RPO_HOURS);
        self.require_guaranteed = self.require_guaranteed.filter(|g| *g);
        self
    }

    fn only_for(&self, check: CheckId) -> Params {
        let mut only = Params::default();
        match check {
            CheckId::Replicas | CheckId::Spread => only.min_replicas = self.min_replicas,
            CheckId::GracefulShutdown => {
                only.max_grace_period_seconds = self.max_grace_period_seconds;
            }
            CheckId::Image => only.allowed_registries = self.allowed_registries.clone(),
            CheckId::QosPriority => {
                only.require_guaranteed = self.require_guaranteed;
                only.priority_classes = self.priority_classes.clone();
            }
            CheckId::Tls => only.min_certificate_days = self.min_certificate_days,
            CheckId::Backups => only.rpo_hours = self.rpo_hours,
            _ => {}
        }
        only
    }
}

/// Where a snapshot came from, recorded with the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct SourceInfo {
    /// "cluster", "upload" or "manifests"; Demarc records results a pipeline posted as
    /// "report" (it did not read those objects itself).
    pub kind: String,
    /// Cluster name (environment), file name or folder.
    pub name: String,
    /// Server version (gitVersion) when read from a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The API server read, when read from a cluster: its URL, or `in-cluster` (the service
    /// account Demarc runs as).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// When the objects were read (every result of the snapshot was judged on what was seen then).
    pub read_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ids_round_trip_through_their_names() {
        for c in CheckId::ALL {
            assert_eq!(CheckId::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(CheckId::parse("nope"), None);
    }

    #[test]
    fn the_worst_outcome_wins() {
        use Outcome::*;
        assert_eq!(Outcome::combine([Pass, Warn, NotApplicable]), Warn);
        assert_eq!(Outcome::combine([Pass, Error, Fail]), Fail);
        assert_eq!(Outcome::combine([Pass, Error]), Error);
        assert_eq!(Outcome::combine([]), NotApplicable);
    }

    #[test]
    fn a_checks_parameters_compare_by_the_values_it_will_use() {
        let set = |v: serde_json::Value| -> Params { serde_json::from_value(v).unwrap() };
        // The default written out is the default left out.
        assert_eq!(
            set(serde_json::json!({"min_replicas": 2})).for_check(CheckId::Replicas),
            Params::default().for_check(CheckId::Replicas)
        );
        assert_ne!(
            set(serde_json::json!({"min_replicas": 3})).for_check(CheckId::Replicas),
            Params::default().for_check(CheckId::Replicas)
        );
        // Another check's parameter does not matter, and order in a list does not either.
        assert_eq!(
            set(serde_json::json!({"rpo_hours": 6, "allowed_registries": ["b.io", "a.io"]}))
                .for_check(CheckId::Image),
            set(serde_json::json!({"allowed_registries": ["a.io", "b.io"]}))
                .for_check(CheckId::Image)
        );
        assert_eq!(
            set(serde_json::json!({"require_guaranteed": false})).for_check(CheckId::QosPriority),
            Params::default()
        );
    }
}
