//! The resources the server knows: the built-in kinds it always serves and the custom kinds it
//! serves only when the fixture holds objects of that kind or their CustomResourceDefinition.

use serde_json::{Value, json};

/// One resource (`pods`, `deployments.apps`, `servicemonitors.monitoring.coreos.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, "" for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The plural name used in URLs (`pods`).
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    /// Verbs listed in discovery.
    pub verbs: Vec<&'static str>,
}

const READ_VERBS: [&str; 3] = ["get", "list", "watch"];

impl ResourceInfo {
    fn new(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
        short_names: &[&str],
    ) -> Self {
        ResourceInfo {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            singular: kind.to_lowercase(),
            namespaced,
            short_names: short_names.iter().map(|s| s.to_string()).collect(),
            verbs: READ_VERBS.to_vec(),
        }
    }

    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The entry of an APIResourceList.
    pub fn discovery(&self) -> Value {
        let mut entry = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs,
        });
        if !self.short_names.is_empty() {
            entry["shortNames"] = json!(self.short_names);
        }
        if self.verbs.contains(&"list") && BUILT_IN_ALL.contains(&self.plural.as_str()) {
            entry["categories"] = json!(["all"]);
        }
        entry
    }
}

/// Resources kubectl shows for `kubectl get all`.
const BUILT_IN_ALL: [&str; 8] = [
    "pods",
    "services",
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "cronjobs",
    "jobs",
];

/// The kinds every cluster serves, in discovery order.
pub fn built_in() -> Vec<ResourceInfo> {
    let mut ssar = ResourceInfo::new(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        false,
        &[],
    );
    ssar.verbs = vec!["create"];
    vec![
        ResourceInfo::new("", "v1", "Namespace", "namespaces", false, &["ns"]),
        ResourceInfo::new("", "v1", "Node", "nodes", false, &["no"]),
        ResourceInfo::new("", "v1", "Pod", "pods", true, &["po"]),
        ResourceInfo::new("", "v1", "Service", "services", true, &["svc"]),
        ResourceInfo::new("", "v1", "ServiceAccount", "serviceaccounts", true, &["sa"]),
        ResourceInfo::new("", "v1", "LimitRange", "limitranges", true, &["limits"]),
        ResourceInfo::new("apps", "v1", "Deployment", "deployments", true, &["deploy"]),
        ResourceInfo::new("apps", "v1", "StatefulSet", "statefulsets", true, &["sts"]),
        ResourceInfo::new("apps", "v1", "DaemonSet", "daemonsets", true, &["ds"]),
        ResourceInfo::new("apps", "v1", "ReplicaSet", "replicasets", true, &["rs"]),
        ResourceInfo::new("batch", "v1", "CronJob", "cronjobs", true, &["cj"]),
        ResourceInfo::new("batch", "v1", "Job", "jobs", true, &[]),
        ResourceInfo::new(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
            &["hpa"],
        ),
        ResourceInfo::new(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
            &["pdb"],
        ),
        ResourceInfo::new(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
            &["netpol"],
        ),
        ResourceInfo::new(
            "networking.k8s.io",
            "v1",
            "Ingress",
            "ingresses",
            true,
            &["ing"],
        ),
        ssar,
        ResourceInfo::new(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &["crd", "crds"],
        ),
    ]
}

/// Custom kinds Demarc reads, with the names their CRDs give them. Served only when present.
pub fn known_custom() -> Vec<ResourceInfo> {
    vec![
        ResourceInfo::new(
            "monitoring.coreos.com",
            "v1",
            "ServiceMonitor",
            "servicemonitors",
            true,
            &["smon"],
        ),
        ResourceInfo::new(
            "monitoring.coreos.com",
            "v1",
            "PodMonitor",
            "podmonitors",
            true,
            &["pmon"],
        ),
        ResourceInfo::new(
            "monitoring.coreos.com",
            "v1",
            "PrometheusRule",
            "prometheusrules",
            true,
            &["promrule"],
        ),
        ResourceInfo::new("velero.io", "v1", "Schedule", "schedules", true, &[]),
        ResourceInfo::new("velero.io", "v1", "Backup", "backups", true, &[]),
        ResourceInfo::new(
            "cert-manager.io",
            "v1",
            "Certificate",
            "certificates",
            true,
            &["cert", "certs"],
        ),
        ResourceInfo::new(
            "argoproj.io",
            "v1alpha1",
            "Rollout",
            "rollouts",
            true,
            &["ro"],
        ),
    ]
}

/// The resource a CustomResourceDefinition object declares (its storage version).
pub fn from_crd(crd: &Value) -> Option<ResourceInfo> {
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let versions = spec.get("versions")?.as_array()?;
    let version = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .or_else(|| versions.first())?
        .get("name")?
        .as_str()?;
    let kind = names.get("kind")?.as_str()?;
    let plural = names.get("plural")?.as_str()?;
    let mut info = ResourceInfo::new(
        spec.get("group")?.as_str()?,
        version,
        kind,
        plural,
        spec.get("scope").and_then(Value::as_str) != Some("Cluster"),
        &[],
    );
    if let Some(singular) = names.get("singular").and_then(Value::as_str) {
        info.singular = singular.to_string();
    }
    if let Some(short) = names.get("shortNames").and_then(Value::as_array) {
        info.short_names = short
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    Some(info)
}

/// A resource guessed from an object of a kind nobody declared (English plural of the kind).
pub fn guessed(group: &str, version: &str, kind: &str, namespaced: bool) -> ResourceInfo {
    let lower = kind.to_lowercase();
    let plural = if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else if ["s", "x", "ch", "sh"].iter().any(|e| lower.ends_with(e)) {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    };
    ResourceInfo::new(group, version, kind, &plural, namespaced, &[])
}

/// Splits `apps/v1` into ("apps", "v1") and `v1` into ("", "v1").
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guessed_plurals_follow_english() {
        assert_eq!(guessed("x", "v1", "Policy", true).plural, "policies");
        assert_eq!(guessed("x", "v1", "Ingress", true).plural, "ingresses");
        assert_eq!(guessed("x", "v1", "Widget", true).plural, "widgets");
    }
}
