//! Test helpers: cluster objects from JSON literals, and a compliant baseline to vary.

use chrono::{DateTime, TimeZone, Utc};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::evaluate;
use crate::snapshot::Snapshot;
use crate::{CheckId, CheckResult, Params};

/// A Kubernetes object from a JSON literal.
pub fn obj<T: DeserializeOwned>(v: Value) -> T {
    match serde_json::from_value(v) {
        Ok(t) => t,
        Err(e) => panic!("test object does not deserialize: {e}"),
    }
}

/// The evaluation time of the tests.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A container that passes every container-level check.
pub fn good_container(name: &str) -> Value {
    json!({
        "name": name,
        "image": "registry.example.com/shop/cart:1.4.2",
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}, "failureThreshold": 6},
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "100m", "memory": "128Mi"}
        },
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}
        }
    })
}

/// A pod spec that passes every spec-level check (spread on hostname, non-root, no token).
pub fn good_pod_spec(app: &str) -> Value {
    json!({
        "containers": [good_container("app")],
        "priorityClassName": "business",
        "automountServiceAccountToken": false,
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "topologySpreadConstraints": [{
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": app}}
        }]
    })
}

/// A Deployment `shop/<name>` with `replicas` replicas, all ready, selecting `app=<name>`.
pub fn deployment(name: &str, replicas: i32, pod_spec: Value) -> Deployment {
    obj(json!({
        "metadata": {"name": name, "namespace": "shop", "resourceVersion": "42"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
        },
        "status": {"replicas": replicas, "readyReplicas": replicas}
    }))
}

/// A running Pod of app `app` on `node`.
pub fn pod(name: &str, app: &str, node: &str, pod_spec: Value) -> Pod {
    let mut spec = pod_spec;
    if let Some(m) = spec.as_object_mut() {
        m.insert("nodeName".to_string(), json!(node));
    }
    obj(json!({
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": app}},
        "spec": spec,
        "status": {"phase": "Running"}
    }))
}

/// A Ready node in `zone` with the given allocatable CPU and memory.
pub fn node(name: &str, zone: &str, cpu: &str, memory: &str) -> Node {
    obj(json!({
        "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone, "kubernetes.io/hostname": name}},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}]
        }
    }))
}

/// A snapshot of namespace `shop` with `cart` (2 replicas, compliant) running on two nodes.
pub fn healthy_shop() -> Snapshot {
    let spec = good_pod_spec("cart");
    let mut s = Snapshot {
        namespaces: vec!["shop".to_string()],
        ..Snapshot::default()
    };
    s.deployments.push(deployment("cart", 2, spec.clone()));
    s.pods.push(pod("cart-a", "cart", "n1", spec.clone()));
    s.pods.push(pod("cart-b", "cart", "n2", spec));
    s.nodes.push(node("n1", "z1", "4", "8Gi"));
    s.nodes.push(node("n2", "z2", "4", "8Gi"));
    s.nodes.push(node("n3", "z2", "4", "8Gi"));
    s
}

/// The results of one check with default parameters.
pub fn check(s: &Snapshot, id: CheckId) -> Vec<CheckResult> {
    check_with(s, id, Params::default())
}

pub fn check_with(s: &Snapshot, id: CheckId, params: Params) -> Vec<CheckResult> {
    evaluate(s, &[(id, params)], now())
}

/// The single result of a check on workload `name`.
pub fn result_for(s: &Snapshot, id: CheckId, name: &str) -> CheckResult {
    result_with(s, id, name, Params::default())
}

pub fn result_with(s: &Snapshot, id: CheckId, name: &str, params: Params) -> CheckResult {
    let all = check_with(s, id, params);
    match all.into_iter().find(|r| r.subject.name == name) {
        Some(r) => r,
        None => panic!("no {id} result for {name}"),
    }
}

/// Every check with its default parameters.
pub fn every_check() -> Vec<(CheckId, Params)> {
    CheckId::ALL
        .iter()
        .map(|c| (*c, Params::default()))
        .collect()
}
