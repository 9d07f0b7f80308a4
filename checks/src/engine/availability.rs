//! Checks that keep the application up through deploys, node drains and failures: replicas,
//! probes, spread, drain capacity, disruption budgets, graceful shutdown, rollout strategy.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use k8s_openapi::api::core::v1::{
    Container, Node, NodeSelector, Pod, PodAffinityTerm, PodSpec, Probe, Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::index::{Index, LEGACY_ZONE_LABEL, ZONE_LABEL, node_zone};
use super::quantity::{Resources, format_bytes, pod_requests};
use super::{
    Cx, EvidenceExt, Verdict, WorkloadKind, error, ios_display, list_some, name_of, ns_of, obj_ref,
    scaled, selector, source_error,
};
use crate::snapshot::{Source, occupied_node};
use crate::{Evidence, Outcome, Params};

const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
const SPREAD_KEYS: [&str; 3] = [HOSTNAME_LABEL, ZONE_LABEL, LEGACY_ZONE_LABEL];

/// The effective minimum replica count: the HPA's minReplicas, else spec.replicas (default 1).
fn effective_min(cx: &Cx<'_, '_>, ev: &mut Evidence) -> (i32, String) {
    let w = cx.w;
    ev.val("spec.replicas", w.replicas.map_or(Value::Null, Value::from));
    match cx.idx.hpa_for(w) {
        Some(h) => {
            ev.obj(obj_ref("HorizontalPodAutoscaler", &h.metadata));
            let min = h.spec.as_ref().and_then(|s| s.min_replicas).unwrap_or(1);
            ev.val("hpa.spec.minReplicas", min);
            (
                min,
                format!(
                    "HorizontalPodAutoscaler {}/{} spec.minReplicas",
                    w.namespace,
                    name_of(&h.metadata)
                ),
            )
        }
        None => (w.replicas.unwrap_or(1), "spec.replicas".to_string()),
    }
}

pub fn replicas(cx: &Cx<'_, '_>, params: &Params) -> Verdict {
    let w = cx.w;
    if !w.kind.has_replicas() {
        return Verdict::na(format!("{} has no replica count", w.display()));
    }
    if let Some(e) = source_error(
        &cx.idx.snap.horizontal_pod_autoscalers,
        "horizontalpodautoscalers",
    ) {
        return error(format!(
            "{e}; the effective minimum of {} is unknown",
            w.display()
        ));
    }
    // Argo scales a Deployment that a Rollout names in spec.workloadRef to 0 and runs the Pods
    // itself: with the Rollouts unreadable, a Deployment at 0 may be one of those.
    if w.kind == WorkloadKind::Deployment
        && w.replicas == Some(0)
        && let Some(e) = source_error(&cx.idx.snap.rollouts, "rollouts.argoproj.io")
    {
        return error(format!(
            "{e}; {} is scaled to 0, as Argo Rollouts leaves a Deployment its Rollout takes over (spec.workloadRef), so its replicas cannot be judged",
            w.display()
        ));
    }
    let required = i32::try_from(params.min_replicas.unwrap_or(Params::DEFAULT_MIN_REPLICAS))
        .unwrap_or(i32::MAX);
    let mut ev = Evidence::default();
    let (min, from) = effective_min(cx, &mut ev);
    ev.val(
        "status.readyReplicas",
        w.ready_replicas.map_or(Value::Null, Value::from),
    );
    ev.val("required", required);
    let hpa = cx.idx.hpa_for(w).is_some();
    if min < required {
        let msg = if hpa {
            format!(
                "{} can scale down to {min} replica(s) ({from}); set spec.minReplicas >= {required} on the HorizontalPodAutoscaler",
                w.display()
            )
        } else {
            format!(
                "{} has {min} replica(s); set spec.replicas >= {required} or an HPA with minReplicas >= {required}",
                w.display()
            )
        };
        return Verdict::new(Outcome::Fail, msg, ev);
    }
    if !w.has_status {
        return Verdict::new(
            Outcome::Warn,
            format!(
                "{} asks for at least {min} replicas ({from}), but has no status, so ready replicas were not verified",
                w.display()
            ),
            ev,
        );
    }
    let ready = w.ready_replicas.unwrap_or(0);
    if ready < required {
        return Verdict::new(
            Outcome::Fail,
            format!(
                "{} asks for at least {min} replicas ({from}) but only {ready} are ready (status.readyReplicas); look at the Pods' events and readiness probes",
                w.display()
            ),
            ev,
        );
    }
    Verdict::new(
        Outcome::Pass,
        format!(
            "{} has at least {min} replicas ({from}), {ready} ready",
            w.display()
        ),
        ev,
    )
}

fn probe_summary(p: &Probe) -> String {
    let port = |p: &IntOrString| match p {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    };
    let handler = if let Some(h) = &p.http_get {
        format!(
            "httpGet {}:{}",
            h.path.as_deref().unwrap_or("/"),
            port(&h.port)
        )
    } else if let Some(t) = &p.tcp_socket {
        format!("tcpSocket :{}", port(&t.port))
    } else if let Some(g) = &p.grpc {
        format!("grpc :{}", g.port)
    } else if let Some(e) = &p.exec {
        format!("exec {}", e.command.as_deref().unwrap_or(&[]).join(" "))
    } else {
        "no handler".to_string()
    };
    format!(
        "{handler} (initialDelaySeconds {}, periodSeconds {}, failureThreshold {})",
        p.initial_delay_seconds.unwrap_or(0),
        p.period_seconds.unwrap_or(10),
        p.failure_threshold.unwrap_or(3)
    )
}

/// A probe's numeric port (httpGet, tcpSocket or grpc) and its field.
fn numbered_port(p: &Probe) -> Option<(&'static str, i32)> {
    if let Some(IntOrString::Int(n)) = p.http_get.as_ref().map(|h| &h.port) {
        return Some(("httpGet.port", *n));
    }
    if let Some(IntOrString::Int(n)) = p.tcp_socket.as_ref().map(|t| &t.port) {
        return Some(("tcpSocket.port", *n));
    }
    p.grpc.as_ref().map(|g| ("grpc.port", g.port))
}

fn named_port(p: &Probe) -> Option<(&'static str, &str)> {
    if let Some(IntOrString::String(s)) = p.http_get.as_ref().map(|h| &h.port) {
        return Some(("httpGet.port", s));
    }
    if let Some(IntOrString::String(s)) = p.tcp_socket.as_ref().map(|t| &t.port) {
        return Some(("tcpSocket.port", s));
    }
    None
}

/// A livenessProbe.initialDelaySeconds from which a container counts as a slow starter that
/// needs a startupProbe.
const SLOW_START_SECONDS: i32 = 30;

pub fn probes(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    if w.kind.is_batch() {
        return Verdict::na(format!(
            "{} runs to completion; probes do not apply",
            w.display()
        ));
    }
    let spec = w.pod_spec();
    let mut ev = Evidence::default();
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    for c in &spec.containers {
        let path = format!("{}.containers[{}]", w.template_path, c.name);
        ev.val(
            format!("containers[{}]", c.name),
            json!({
                "readinessProbe": c.readiness_probe.as_ref().map(probe_summary),
                "livenessProbe": c.liveness_probe.as_ref().map(probe_summary),
                "startupProbe": c.startup_probe.as_ref().map(probe_summary),
            }),
        );
        match (&c.readiness_probe, &c.liveness_probe) {
            (None, _) => fails.push(format!("{path} has no readinessProbe")),
            (Some(r), Some(l)) if r == l => fails.push(format!(
                "{path}: readinessProbe and livenessProbe are identical, so a slow Pod is restarted instead of only taken out of the Service; give liveness a cheaper check or a higher failureThreshold"
            )),
            _ => {}
        }
        let ports: Vec<&str> = c
            .ports
            .iter()
            .flatten()
            .filter_map(|p| p.name.as_deref())
            .collect();
        for (kind, probe) in [
            ("readinessProbe", &c.readiness_probe),
            ("livenessProbe", &c.liveness_probe),
            ("startupProbe", &c.startup_probe),
        ] {
            if let Some((field, name)) = probe.as_ref().and_then(named_port)
                && !ports.contains(&name)
            {
                fails.push(format!(
                    "{path}.{kind}.{field} names port \"{name}\", which the container's ports do not declare"
                ));
            }
            // Declaring ports is optional, so a number no port declares is only suspicious when
            // the container declares some: a probe of the wrong port restarts a healthy Pod.
            let declared: Vec<i32> = c.ports.iter().flatten().map(|p| p.container_port).collect();
            if let Some((field, number)) = probe.as_ref().and_then(numbered_port)
                && !declared.is_empty()
                && !declared.contains(&number)
            {
                warns.push(format!(
                    "{path}.{kind}.{field} is {number}, which none of the container's ports ({}) is; make sure the application listens there",
                    declared.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        if let Some(l) = &c.liveness_probe {
            let delay = l.initial_delay_seconds.unwrap_or(0);
            if delay >= SLOW_START_SECONDS && c.startup_probe.is_none() {
                // Until the delay is over a hung container is not restarted, and after it one
                // that starts slower than usual (a cold cache, a busy node) is killed mid-start.
                let period = l.period_seconds.unwrap_or(10).max(1);
                fails.push(format!(
                    "{path}: livenessProbe.initialDelaySeconds is {delay} (a slow starter) and there is no startupProbe; add a startupProbe (the liveness check with periodSeconds {period} and failureThreshold {}, so it may take {delay} s and more to start) and lower livenessProbe.initialDelaySeconds to 0, so liveness reacts quickly once it runs",
                    ((2 * delay + period - 1) / period).max(3)
                ));
            }
        }
    }
    if !fails.is_empty() {
        let mut all = fails;
        all.extend(warns);
        return Verdict::new(
            Outcome::Fail,
            format!("{}: {}", w.display(), all.join("; ")),
            ev,
        );
    }
    if !warns.is_empty() {
        return Verdict::new(
            Outcome::Warn,
            format!("{}: {}", w.display(), warns.join("; ")),
            ev,
        );
    }
    Verdict::new(
        Outcome::Pass,
        format!(
            "every container of {} has a readiness probe distinct from its liveness probe",
            w.display()
        ),
        ev,
    )
}

/// The spreading rules of a template that apply to its own Pods, described.
fn spread_rules(spec: &PodSpec, labels: Option<&selector::Labels>) -> (Vec<String>, Vec<String>) {
    let mut good = Vec::new();
    let mut ignored = Vec::new();
    let own = |s: Option<&LabelSelector>| s.is_some_and(|s| selector::matches(s, labels));
    for t in spec.topology_spread_constraints.iter().flatten() {
        if !SPREAD_KEYS.contains(&t.topology_key.as_str()) {
            continue;
        }
        let d = format!(
            "topologySpreadConstraints on {} ({})",
            t.topology_key, t.when_unsatisfiable
        );
        if own(t.label_selector.as_ref()) {
            good.push(d);
        } else {
            ignored.push(format!(
                "{d}: its labelSelector does not select the workload's own Pods"
            ));
        }
    }
    if let Some(anti) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref())
    {
        let required = anti
            .required_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .map(|t| ("required", t));
        let preferred = anti
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .map(|t| ("preferred", &t.pod_affinity_term));
        for (how, term) in required.chain(preferred) {
            if !SPREAD_KEYS.contains(&term.topology_key.as_str()) {
                continue;
            }
            let d = format!("{how} podAntiAffinity on {}", term.topology_key);
            if own(term.label_selector.as_ref()) {
                good.push(d);
            } else {
                ignored.push(format!(
                    "{d}: its labelSelector does not select the workload's own Pods"
                ));
            }
        }
    }
    (good, ignored)
}

fn zone_of<'n>(idx: &Index<'n>, node: &str) -> Option<&'n str> {
    node_zone(idx.nodes.get(node)?)
}

/// The zones the workload's Pods could be scheduled in: those with a node that takes new Pods
/// (not cordoned, Ready) and would accept them whatever its free capacity ([`refusal`]: taints
/// tolerated, nodeSelector and required node affinity matched), by the template's spec or a
/// running Pod's (admission may have added tolerations). A tainted GPU pool or the control plane
/// in another zone does not make the cluster multi-zone for the application.
fn possible_zones<'a>(cx: &Cx<'_, 'a>) -> Vec<&'a str> {
    let live = cx.live_pods();
    let specs: Vec<&PodSpec> = std::iter::once(cx.w.pod_spec())
        .chain(live.iter().filter_map(|p| p.spec.as_ref()))
        .collect();
    cx.idx
        .zones
        .iter()
        .filter(|(_, nodes)| {
            nodes
                .iter()
                .any(|n| schedulable(n) && specs.iter().any(|s| refusal(s, n).is_none()))
        })
        .map(|(z, _)| *z)
        .collect()
}

/// `params.min_replicas` (default 2) is the effective minimum replica count the workload must
/// have; its Pods must then run on at least two nodes. A single replica, where min_replicas 1
/// accepts it, has nothing to spread.
pub fn spread(cx: &Cx<'_, '_>, params: &Params) -> Verdict {
    let w = cx.w;
    if !w.kind.has_replicas() {
        return Verdict::na(format!("{} is not a replicated workload", w.display()));
    }
    if let Some(e) = source_error(&cx.idx.snap.pods, "pods") {
        return error(format!("{e}; cannot see where {} runs", w.display()));
    }
    if let Some(e) = source_error(&cx.idx.snap.nodes, "nodes") {
        return error(format!("{e}; cannot see the nodes {} runs on", w.display()));
    }
    let required = i32::try_from(params.min_replicas.unwrap_or(Params::DEFAULT_MIN_REPLICAS))
        .unwrap_or(i32::MAX);
    let mut ev = Evidence::default();
    let (desired, from) = effective_min(cx, &mut ev);
    ev.val("required", required);
    let (rules, ignored) = spread_rules(w.pod_spec(), w.template_labels());
    ev.val("template.spreading", rules.clone());
    if !ignored.is_empty() {
        ev.val("template.ignored", ignored.clone());
    }
    let live: Vec<&Pod> = cx.live_pods();
    let mut nodes: BTreeSet<&str> = BTreeSet::new();
    let mut zones: BTreeSet<&str> = BTreeSet::new();
    let mut placement = BTreeMap::new();
    for p in &live {
        ev.obj(obj_ref("Pod", &p.metadata));
        let node = p.spec.as_ref().and_then(|s| s.node_name.as_deref());
        placement.insert(name_of(&p.metadata), node);
        if let Some(n) = node {
            nodes.insert(n);
            if let Some(z) = zone_of(cx.idx, n) {
                zones.insert(z);
            }
        }
    }
    for n in &nodes {
        if let Some(node) = cx.idx.nodes.get(n) {
            ev.obj(obj_ref("Node", &node.metadata));
        }
    }
    let possible = possible_zones(cx);
    let multi_zone = possible.len() >= 2;
    ev.val("pods", json!(placement));
    ev.val("nodes", json!(nodes));
    ev.val("zones", json!(zones));
    ev.val("cluster_zones", cx.idx.zones.len());
    ev.val("schedulable_zones", json!(possible));
    if desired < required {
        let why = if desired < 2 {
            "so it cannot be spread over nodes".to_string()
        } else {
            format!("fewer than the {required} required")
        };
        return Verdict::new(
            Outcome::Fail,
            format!(
                "{} runs {desired} replica(s) ({from}), {why}; set spec.replicas >= {required} (or HPA minReplicas >= {required}) and add topologySpreadConstraints on {HOSTNAME_LABEL}",
                w.display()
            ),
            ev,
        );
    }
    if desired < 2 {
        return Verdict::new(
            Outcome::Pass,
            format!(
                "{} runs {desired} replica ({from}), which min_replicas {required} accepts; a single replica has nothing to spread",
                w.display()
            ),
            ev,
        );
    }
    let mut rule_missing = None;
    if rules.is_empty() {
        let mut p = format!(
            "{}.topologySpreadConstraints / affinity.podAntiAffinity do not spread the Pods over {HOSTNAME_LABEL} or {ZONE_LABEL}",
            w.template_path
        );
        if !ignored.is_empty() {
            p.push_str(&format!(" ({})", ignored.join("; ")));
        }
        rule_missing = Some(p);
    }
    let how_to = format!(
        "add topologySpreadConstraints with topologyKey {HOSTNAME_LABEL}{} and a labelSelector matching the Pod labels",
        if multi_zone {
            format!(" and {ZONE_LABEL}")
        } else {
            String::new()
        }
    );
    if live.is_empty() {
        // A workload read from a cluster (it carries a status) that runs no Pod runs on no node
        // at all; one from manifests cannot show where it runs.
        if w.has_status {
            let mut message = format!(
                "{} asks for {desired} replicas ({from}) but no running Pod of it was found, so it runs on no node; find out why with kubectl describe {} -n {} {} (its events, and those of its Pods), then verify again",
                w.display(),
                w.kind.as_str().to_lowercase(),
                w.namespace,
                w.name
            );
            if let Some(p) = &rule_missing {
                message.push_str(&format!("; also, {p}: {how_to}"));
            }
            return Verdict::new(Outcome::Fail, message, ev);
        }
        if let Some(p) = rule_missing {
            return Verdict::new(Outcome::Fail, format!("{}: {p}; {how_to}", w.display()), ev);
        }
        return Verdict::new(
            Outcome::Warn,
            format!(
                "{} asks for spreading ({}), but no running Pods were found to confirm where they run",
                w.display(),
                rules.join(", ")
            ),
            ev,
        );
    }
    let mut problems = Vec::new();
    if nodes.len() < 2 {
        problems.push(format!(
            "all {} running Pods are on node {}",
            live.len(),
            nodes.iter().next().copied().unwrap_or("(not scheduled)")
        ));
    } else if multi_zone && zones.len() < 2 {
        problems.push(format!(
            "its Pods could be scheduled in {} zones ({}), but all Pods run in zone {}",
            possible.len(),
            list_some(
                &possible.iter().map(|z| z.to_string()).collect::<Vec<_>>(),
                4
            ),
            zones.iter().next().copied().unwrap_or("(unknown)")
        ));
    }
    if !problems.is_empty() {
        problems.extend(rule_missing);
        return Verdict::new(
            Outcome::Fail,
            format!("{}: {}; {how_to}", w.display(), problems.join("; ")),
            ev,
        );
    }
    let where_ = if multi_zone {
        format!("{} nodes in {} zones", nodes.len(), zones.len())
    } else {
        format!("{} nodes", nodes.len())
    };
    // Really spread, but nothing asks the scheduler for it: the next reschedule (a drain, a
    // rollout) may put every replica on one node.
    if let Some(p) = rule_missing {
        return Verdict::new(
            Outcome::Warn,
            format!(
                "{} runs on {where_}, but by chance: {p}, so a node drain or a rollout may put every replica on one node; {how_to} to make the spread a rule",
                w.display()
            ),
            ev,
        );
    }
    Verdict::new(
        Outcome::Pass,
        format!(
            "{} spreads its Pods ({}) and they run on {where_}",
            w.display(),
            rules.join(", ")
        ),
        ev,
    )
}

fn node_ready(n: &Node) -> bool {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .is_none_or(|c| c.status == "True")
}

/// Whether a node takes new Pods at all: not cordoned (spec.unschedulable or its taint), Ready.
fn schedulable(n: &Node) -> bool {
    let spec = n.spec.as_ref();
    spec.and_then(|s| s.unschedulable) != Some(true)
        && !spec.and_then(|s| s.taints.as_ref()).is_some_and(|t| {
            t.iter()
                .any(|t| t.key == "node.kubernetes.io/unschedulable")
        })
        && node_ready(n)
}

/// Whether one of the tolerations tolerates the taint, by the scheduler's rule: an empty effect
/// matches every effect, `Exists` with an empty key matches every taint, `Equal` (the default)
/// needs the key and the value.
fn tolerates(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| {
        let effect = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == taint.effect);
        let key = t.key.as_deref().unwrap_or("");
        effect
            && match t.operator.as_deref().unwrap_or("Equal") {
                "Exists" => key.is_empty() || key == taint.key,
                "Equal" => {
                    key == taint.key
                        && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
                }
                _ => false,
            }
    })
}

/// Whether a node selector requirement holds for a value (`None`: the node has no such label).
/// Gt and Lt compare integers; anything unreadable holds for no node, as for the scheduler.
fn requirement_holds(op: &str, values: &[String], value: Option<&str>) -> bool {
    let int = |s: &str| s.trim().parse::<i64>().ok();
    match op {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => match (value.and_then(int), values) {
            (Some(v), [bound]) => {
                int(bound).is_some_and(|b| if op == "Gt" { v > b } else { v < b })
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether a node satisfies a required node affinity: the terms are ORed, the requirements of a
/// term ANDed, and a term without requirements matches no node.
fn node_affinity_matches(required: &NodeSelector, node: &Node) -> bool {
    let labels = node.metadata.labels.as_ref();
    let name = name_of(&node.metadata);
    required.node_selector_terms.iter().any(|term| {
        let exprs = term.match_expressions.as_deref().unwrap_or(&[]);
        let fields = term.match_fields.as_deref().unwrap_or(&[]);
        (!exprs.is_empty() || !fields.is_empty())
            && exprs.iter().all(|r| {
                let value = labels.and_then(|l| l.get(&r.key)).map(String::as_str);
                requirement_holds(&r.operator, r.values.as_deref().unwrap_or(&[]), value)
            })
            && fields.iter().all(|r| {
                let value = (r.key == "metadata.name").then_some(name);
                requirement_holds(&r.operator, r.values.as_deref().unwrap_or(&[]), value)
            })
    })
}

/// Why a node refuses a Pod whatever its free capacity.
enum Refusal<'n> {
    /// A NoSchedule or NoExecute taint the Pod does not tolerate.
    Taint(&'n Taint),
    NodeSelector,
    NodeAffinity,
}

/// A taint as people write it: "key=value:Effect".
fn taint_text(t: &Taint) -> String {
    match t.value.as_deref() {
        Some(v) if !v.is_empty() => format!("{}={v}:{}", t.key, t.effect),
        _ => format!("{}:{}", t.key, t.effect),
    }
}

fn refusal<'n>(spec: &PodSpec, node: &'n Node) -> Option<Refusal<'n>> {
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    let untolerated = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .find(|t| {
            matches!(t.effect.as_str(), "NoSchedule" | "NoExecute") && !tolerates(tolerations, t)
        });
    if let Some(t) = untolerated {
        return Some(Refusal::Taint(t));
    }
    let labels = node.metadata.labels.as_ref();
    if spec
        .node_selector
        .iter()
        .flatten()
        .any(|(k, v)| labels.and_then(|l| l.get(k)) != Some(v))
    {
        return Some(Refusal::NodeSelector);
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    if required.is_some_and(|r| !node_affinity_matches(r, node)) {
        return Some(Refusal::NodeAffinity);
    }
    None
}

/// The required podAntiAffinity terms of a Pod that keep it off a node (topology key
/// kubernetes.io/hostname).
fn hostname_anti_terms(p: &Pod) -> impl Iterator<Item = &PodAffinityTerm> {
    p.spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .into_iter()
        .flatten()
        .filter(|t| t.topology_key == HOSTNAME_LABEL)
}

/// Whether required podAntiAffinity keeps `a` and `b` off one node (either Pod's terms). A
/// namespaceSelector is taken to select every namespace: namespace labels are not read.
fn anti_conflict(a: &Pod, b: &Pod) -> bool {
    let one_way = |x: &Pod, y: &Pod| {
        let y_ns = ns_of(&y.metadata);
        hostname_anti_terms(x).any(|t| {
            let namespaces = t.namespaces.as_deref().unwrap_or(&[]);
            let ns_ok = t.namespace_selector.is_some()
                || namespaces.iter().any(|n| n == y_ns)
                || (namespaces.is_empty() && ns_of(&x.metadata) == y_ns);
            ns_ok
                && t.label_selector
                    .as_ref()
                    .is_some_and(|s| selector::matches(s, y.metadata.labels.as_ref()))
        })
    };
    one_way(a, b) || one_way(b, a)
}

/// Whether a drain sends the Pod elsewhere: DaemonSet Pods stay (`kubectl drain
/// --ignore-daemonsets`), mirror Pods belong to their node, and the Pods of Jobs run to
/// completion and can wait for room.
fn moves_on_drain(p: &Pod) -> bool {
    let owners = p.metadata.owner_references.as_deref().unwrap_or(&[]);
    let owner = owners
        .iter()
        .find(|o| o.controller == Some(true))
        .or(owners.first());
    let mirror = p
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"));
    !mirror && !owner.is_some_and(|o| matches!(o.kind.as_str(), "DaemonSet" | "Job"))
}

fn describe(r: &Resources) -> String {
    format!(
        "cpu {}m, memory {}",
        r.cpu_millis,
        format_bytes(r.memory_bytes)
    )
}

/// Why an evicted Pod found no node: the nodes ruled out, by reason.
#[derive(Debug, Default)]
struct Why<'a> {
    full: Vec<&'a str>,
    /// "cp1 (node-role.kubernetes.io/control-plane:NoSchedule)".
    tainted: Vec<String>,
    selector: Vec<&'a str>,
    affinity: Vec<&'a str>,
    anti: Vec<&'a str>,
}

impl Why<'_> {
    fn describe(&self) -> String {
        let nodes = |v: &[&str]| list_some(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), 3);
        let mut parts = Vec::new();
        if !self.full.is_empty() {
            parts.push(format!(
                "not enough free CPU, memory or Pod slots on {}",
                nodes(&self.full)
            ));
        }
        if !self.tainted.is_empty() {
            parts.push(format!(
                "taints it does not tolerate on {}",
                list_some(&self.tainted, 3)
            ));
        }
        if !self.selector.is_empty() {
            parts.push(format!(
                "its nodeSelector does not match {}",
                nodes(&self.selector)
            ));
        }
        if !self.affinity.is_empty() {
            parts.push(format!(
                "its required node affinity rules out {}",
                nodes(&self.affinity)
            ));
        }
        if !self.anti.is_empty() {
            parts.push(format!(
                "its required podAntiAffinity rules out {} (a matching Pod runs there)",
                nodes(&self.anti)
            ));
        }
        if parts.is_empty() {
            "there is no other schedulable node".to_string()
        } else {
            parts.join("; ")
        }
    }
}

/// What to do about Pods that found no node, from the reasons they were refused.
fn drain_advice(whys: &[&Why<'_>], shared: bool) -> String {
    let mut advice = Vec::new();
    if whys.iter().any(|w| !w.tainted.is_empty()) {
        advice.push("add tolerations if the Pods may run on the tainted nodes");
    }
    if whys
        .iter()
        .any(|w| !w.selector.is_empty() || !w.affinity.is_empty())
    {
        advice.push("let more nodes qualify (nodeSelector, required node affinity)");
    }
    if whys.iter().any(|w| !w.anti.is_empty()) {
        advice.push(
            "use preferred rather than required podAntiAffinity, or run fewer replicas than nodes",
        );
    }
    if shared {
        advice.push("spread the application's workloads so that fewer of its Pods share a node");
    }
    advice.push("lower the Pods' requests, or ask for more node capacity");
    advice.join("; ")
}

/// One evicted Pod looking for a node during a drain, against the room left so far.
struct Fit<'s, 'a> {
    pod: &'a Pod,
    need: Resources,
    /// The node being drained.
    from: &'a str,
    targets: &'s [Target<'a>],
    free: &'s [Resources],
    placed: &'s [Vec<&'a Pod>],
    /// The Pods on a target whose anti-affinity may matter for this Pod.
    there: &'s dyn Fn(usize) -> &'s [&'a Pod],
}

impl<'a> Fit<'_, 'a> {
    /// The first target (by name) that takes the Pod; with `why`, every refusal is recorded.
    fn first(&self, mut why: Option<&mut Why<'a>>) -> Option<usize> {
        for (i, t) in self.targets.iter().enumerate() {
            if t.name == self.from {
                continue;
            }
            let refused: Option<&mut Vec<&'a str>> =
                match self.pod.spec.as_ref().and_then(|s| refusal(s, t.node)) {
                    Some(Refusal::Taint(taint)) => {
                        if let Some(why) = why.as_deref_mut() {
                            why.tainted
                                .push(format!("{} ({})", t.name, taint_text(taint)));
                        }
                        continue;
                    }
                    Some(Refusal::NodeSelector) => why.as_deref_mut().map(|w| &mut w.selector),
                    Some(Refusal::NodeAffinity) => why.as_deref_mut().map(|w| &mut w.affinity),
                    None if !self.free[i].fits(&self.need) => {
                        why.as_deref_mut().map(|w| &mut w.full)
                    }
                    None if (self.there)(i)
                        .iter()
                        .chain(self.placed[i].iter())
                        .any(|q| anti_conflict(self.pod, q)) =>
                    {
                        why.as_deref_mut().map(|w| &mut w.anti)
                    }
                    None => return Some(i),
                };
            if let Some(nodes) = refused {
                nodes.push(t.name);
            }
        }
        None
    }
}

/// A node that takes new Pods, with its free allocatable capacity.
struct Target<'a> {
    name: &'a str,
    node: &'a Node,
    free: Resources,
}

/// One Pod a drain evicts, and where it goes.
struct Evicted<'a> {
    pod: &'a Pod,
    need: Resources,
    /// The node that takes it, or why none does.
    to: Result<&'a str, Why<'a>>,
}

/// Every node's drain, simulated once per evaluation for all the application's Pods (the
/// snapshot's Pods in its namespaces), so that two workloads sharing a node compete for the same
/// room. Each drain-capacity check reads the drains of its workload's nodes.
pub(crate) struct DrainPlan<'a> {
    /// The schedulable nodes, sorted by name, with their free capacity (every counted Pod on
    /// them subtracted).
    targets: Vec<Target<'a>>,
    /// Per node, the application's Pods its drain evicts, in the order they are placed: the
    /// largest requests first (first-fit decreasing), by namespace and name on ties.
    drains: HashMap<&'a str, Vec<Evicted<'a>>>,
}

impl<'a> DrainPlan<'a> {
    pub(crate) fn new(idx: &Index<'a>) -> DrainPlan<'a> {
        let snap = idx.snap;
        let scope: HashSet<&str> = snap.namespaces.iter().map(String::as_str).collect();
        let mut resident: HashMap<&'a str, Vec<&'a Pod>> = HashMap::new();
        for p in snap.pods.items_or_empty() {
            if p.metadata.deletion_timestamp.is_some()
                || !(scope.is_empty() || scope.contains(ns_of(&p.metadata)))
            {
                continue;
            }
            if let Some(node) = occupied_node(p) {
                resident.entry(node).or_default().push(p);
            }
        }
        let mut targets: Vec<Target<'a>> = idx
            .nodes
            .iter()
            .filter(|(_, n)| schedulable(n))
            .map(|(name, n)| {
                let mut free =
                    Resources::from_map(n.status.as_ref().and_then(|s| s.allocatable.as_ref()));
                if let Some(used) = idx.node_used.get(name) {
                    free.sub(*used);
                }
                Target {
                    name,
                    node: n,
                    free,
                }
            })
            .collect();
        targets.sort_by(|a, b| a.name.cmp(b.name));
        let empty = Vec::new();
        let on = |t: &Target<'a>| resident.get(t.name).unwrap_or(&empty);
        // Only Pods with required podAntiAffinity can refuse a newcomer by their own terms.
        let guarded: Vec<Vec<&'a Pod>> = targets
            .iter()
            .map(|t| {
                on(t)
                    .iter()
                    .copied()
                    .filter(|p| hostname_anti_terms(p).next().is_some())
                    .collect()
            })
            .collect();
        let mut drains = HashMap::new();
        for (node, pods) in &resident {
            let mut moved: Vec<(&'a Pod, Resources)> = pods
                .iter()
                .copied()
                .filter(|p| moves_on_drain(p))
                .map(|p| (p, pod_requests(p)))
                .collect();
            if moved.is_empty() {
                continue;
            }
            moved.sort_by(|(a, ra), (b, rb)| {
                (rb.cpu_millis, rb.memory_bytes)
                    .cmp(&(ra.cpu_millis, ra.memory_bytes))
                    .then_with(|| ns_of(&a.metadata).cmp(ns_of(&b.metadata)))
                    .then_with(|| name_of(&a.metadata).cmp(name_of(&b.metadata)))
            });
            let mut free: Vec<Resources> = targets.iter().map(|t| t.free).collect();
            let mut placed: Vec<Vec<&'a Pod>> = vec![Vec::new(); targets.len()];
            let mut evicted = Vec::with_capacity(moved.len());
            for (pod, need) in moved {
                let own_terms = hostname_anti_terms(pod).next().is_some();
                let there = |i: usize| -> &[&'a Pod] {
                    if own_terms {
                        on(&targets[i])
                    } else {
                        &guarded[i]
                    }
                };
                let fit = Fit {
                    pod,
                    need,
                    from: node,
                    targets: &targets,
                    free: &free,
                    placed: &placed,
                    there: &there,
                };
                // The reasons are only worth collecting for a Pod that finds no node.
                let to = match fit.first(None) {
                    Some(i) => {
                        free[i].sub(need);
                        placed[i].push(pod);
                        Ok(targets[i].name)
                    }
                    None => {
                        let mut why = Why::default();
                        fit.first(Some(&mut why));
                        Err(why)
                    }
                };
                evicted.push(Evicted { pod, need, to });
            }
            drains.insert(*node, evicted);
        }
        DrainPlan { targets, drains }
    }
}

/// A Pod's name for a message about a workload of namespace `ns`: with its namespace when it
/// lives in another one.
fn pod_label(ns: &str, p: &Pod) -> String {
    let pod_ns = ns_of(&p.metadata);
    if pod_ns == ns {
        name_of(&p.metadata).to_string()
    } else {
        format!("{pod_ns}/{}", name_of(&p.metadata))
    }
}

pub fn drain_capacity(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    if !w.kind.has_replicas() {
        let why = if w.kind == WorkloadKind::DaemonSet {
            "a drain leaves DaemonSet Pods in place"
        } else {
            "its Pods run to completion"
        };
        return Verdict::na(format!("{}: {why}", w.display()));
    }
    if let Some(e) = source_error(&cx.idx.snap.pods, "pods") {
        return error(format!("{e}; cannot see where {} runs", w.display()));
    }
    if let Some(e) = source_error(&cx.idx.snap.nodes, "nodes") {
        return error(format!("{e}; cannot compute free node capacity"));
    }
    let mut ev = Evidence::default();
    // Without the other namespaces' Pods the nodes look emptier than they are: say so.
    let partial = match &cx.idx.snap.node_loads {
        Source::Read(_) => None,
        Source::NotInstalled => Some("other namespaces' Pods were not read".to_owned()),
        Source::Forbidden(why) | Source::Failed(why) => Some(why.clone()),
    };
    ev.val(
        "scope",
        match &partial {
            None => "node usage counts the requests of every running Pod on each node, in all namespaces".to_owned(),
            Some(why) => format!(
                "node usage counts the requests of Pods in the application's namespaces only ({why}); Pods of other namespaces also use node capacity"
            ),
        },
    );
    let mut by_node: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    for p in cx.live_pods() {
        if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            by_node.entry(n).or_default().push(p);
        }
    }
    if by_node.is_empty() {
        return Verdict::na(format!(
            "{} has no scheduled Pods to reschedule",
            w.display()
        ));
    }
    let plan = cx.idx.drain_plan.get_or_init(|| DrainPlan::new(cx.idx));
    let own: HashSet<*const Pod> = cx.pods.iter().map(|p| *p as *const Pod).collect();
    let mine = |p: &Pod| own.contains(&(p as *const Pod));
    let no_drain = Vec::new();
    let drain_of = |node: &str| plan.drains.get(node).unwrap_or(&no_drain);
    ev.val("schedulable_nodes", plan.targets.len());
    let mut node_values = serde_json::Map::new();
    for (node, pods) in &by_node {
        if let Some(n) = cx.idx.nodes.get(node) {
            ev.obj(obj_ref("Node", &n.metadata));
        }
        let need: Vec<String> = pods
            .iter()
            .map(|p| format!("{} ({})", name_of(&p.metadata), describe(&pod_requests(p))))
            .collect();
        let free = plan
            .targets
            .binary_search_by(|t| t.name.cmp(node))
            .ok()
            .and_then(|i| plan.targets.get(i))
            .map(|t| describe(&t.free));
        let mut value = json!({"pods": need, "free": free});
        let others = drain_of(node).iter().filter(|e| !mine(e.pod)).count();
        if others > 0 {
            value["other_pods_evicted"] = json!(others);
        }
        node_values.insert(node.to_string(), value);
        for p in pods {
            ev.obj(obj_ref("Pod", &p.metadata));
        }
    }
    ev.val("nodes", Value::Object(node_values));
    if by_node.len() == 1 {
        let (node, pods) = by_node
            .iter()
            .next()
            .map(|(n, p)| (*n, p.len()))
            .unwrap_or(("", 0));
        return Verdict::new(
            Outcome::Fail,
            format!(
                "all {pods} Pod(s) of {} run on node {node}: draining it stops the application; run >= 2 replicas spread over nodes",
                w.display()
            ),
            ev,
        );
    }
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let mut whys: Vec<&Why<'_>> = Vec::new();
    let mut shared = false;
    for node in by_node.keys() {
        let evicted = drain_of(node);
        // The other workloads' Pods the drain evicts: how many, and the first few by name (a
        // node of a large application holds many).
        let others = || evicted.iter().filter(|e| !mine(e.pod));
        for (k, e) in evicted.iter().enumerate() {
            let Err(why) = &e.to else { continue };
            let pod = pod_label(w.namespace, e.pod);
            if mine(e.pod) {
                let count = others().count();
                let with = if count == 0 {
                    String::new()
                } else {
                    shared = true;
                    let names: Vec<String> = others()
                        .take(3)
                        .map(|o| pod_label(w.namespace, o.pod))
                        .collect();
                    let more = if count > 3 {
                        format!(" and {} more", count - 3)
                    } else {
                        String::new()
                    };
                    format!(
                        " (evicted together with {count} other Pod(s) of the application: {}{more})",
                        names.join(", ")
                    )
                };
                failures.push(format!(
                    "draining node {node} leaves Pod {pod} ({}) with no node to go to: {}{with}",
                    describe(&e.need),
                    why.describe()
                ));
                whys.push(why);
                continue;
            }
            // Another workload's Pod from the same node: this workload shares the blame when
            // one of its own Pods, placed before that Pod (placement goes largest first), took
            // room on a node that had enough for it before the drain.
            let had_room = |node: &str| {
                plan.targets
                    .binary_search_by(|t| t.name.cmp(node))
                    .is_ok_and(|i| plan.targets[i].free.fits(&e.need))
            };
            let took: Vec<String> = evicted[..k]
                .iter()
                .filter(|m| mine(m.pod))
                .filter_map(|m| match m.to {
                    Ok(to) if why.full.contains(&to) && had_room(to) => Some(format!(
                        "{} takes the room on {to}",
                        name_of(&m.pod.metadata)
                    )),
                    _ => None,
                })
                .collect();
            if took.is_empty() {
                notes.push(format!(
                    "Pod {pod}, also evicted from node {node}, finds no node to go to, for reasons this workload's Pods do not cause (see its own workload's result)"
                ));
            } else {
                shared = true;
                failures.push(format!(
                    "draining node {node} evicts this workload's Pods together with Pod {pod} ({}) of the application, and together they do not fit: {}, and {pod} is left with no node to go to ({})",
                    describe(&e.need),
                    took.join(", "),
                    why.describe()
                ));
                whys.push(why);
            }
        }
    }
    if !failures.is_empty() {
        return Verdict::new(
            Outcome::Fail,
            format!(
                "{}: {}; {}",
                w.display(),
                list_some(&failures, 3),
                drain_advice(&whys, shared)
            ),
            ev,
        );
    }
    let counted = if partial.is_some() {
        "only the application's namespaces' Pods are counted as node usage"
    } else {
        "every namespace's Pods counted as node usage"
    };
    let mut message = format!(
        "the Pods of {} on any one of its {} nodes fit on the other {} schedulable nodes, together with the application's other Pods evicted from that node (first-fit on requests, honouring taints, nodeSelector and required node affinity; {counted})",
        w.display(),
        by_node.len(),
        plan.targets.len()
    );
    if !notes.is_empty() {
        message.push_str("; ");
        message.push_str(&list_some(&notes, 2));
    }
    Verdict::new(Outcome::Pass, message, ev)
}

pub fn disruption_budget(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    if w.kind.is_batch() {
        return Verdict::na(format!(
            "{} runs to completion; disruption budgets do not apply",
            w.display()
        ));
    }
    if w.kind == WorkloadKind::DaemonSet {
        return Verdict::na(format!(
            "{}: node drains (kubectl drain --ignore-daemonsets) leave DaemonSet Pods in place, so no PodDisruptionBudget of its Pods can block them",
            w.display()
        ));
    }
    if let Some(e) = source_error(&cx.idx.snap.pod_disruption_budgets, "poddisruptionbudgets") {
        return error(format!(
            "{e}; cannot tell whether drains of {} are blocked",
            w.display()
        ));
    }
    let live = cx.live_pods();
    let label_sets: Vec<Option<&selector::Labels>> = if live.is_empty() {
        vec![w.template_labels()]
    } else {
        live.iter().map(|p| p.metadata.labels.as_ref()).collect()
    };
    let mut ev = Evidence::default();
    let pdbs: Vec<_> = Index::in_ns(&cx.idx.pdbs, w.namespace)
        .iter()
        .copied()
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .is_some_and(|s| label_sets.iter().any(|l| selector::matches(s, *l)))
        })
        .collect();
    if pdbs.is_empty() {
        return Verdict::new(
            Outcome::Pass,
            format!(
                "no PodDisruptionBudget selects the Pods of {}; drains evict them freely (a PDB with maxUnavailable: 1 would keep the others running during a drain)",
                w.display()
            ),
            ev,
        );
    }
    for p in &pdbs {
        ev.obj(obj_ref("PodDisruptionBudget", &p.metadata));
    }
    let names: Vec<String> = pdbs
        .iter()
        .map(|p| name_of(&p.metadata).to_string())
        .collect();
    let overlapping = label_sets.iter().any(|l| {
        pdbs.iter()
            .filter(|p| {
                p.spec
                    .as_ref()
                    .and_then(|s| s.selector.as_ref())
                    .is_some_and(|s| selector::matches(s, *l))
            })
            .count()
            > 1
    });
    if overlapping {
        return Verdict::new(
            Outcome::Fail,
            format!(
                "Pods of {} are selected by more than one PodDisruptionBudget ({}); the eviction API refuses to evict such Pods, so node drains block; keep one PDB per Pod",
                w.display(),
                names.join(", ")
            ),
            ev,
        );
    }
    // Only replicated workloads get here: batch workloads and DaemonSets returned above.
    // The replicas the budget is weighed against: the same effective minimum the replicas,
    // rollout and drain checks use (an HPA without minReplicas keeps at least 1).
    let (expected, _) = effective_min(cx, &mut ev);
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    let mut passes = Vec::new();
    for p in &pdbs {
        let name = name_of(&p.metadata);
        let spec = p.spec.as_ref();
        let policy = spec.and_then(|s| s.unhealthy_pod_eviction_policy.as_deref());
        let prefix = format!("pdb[{name}]");
        if let Some(v) = spec.and_then(|s| s.min_available.as_ref()) {
            ev.val(format!("{prefix}.spec.minAvailable"), ios_display(v));
        }
        if let Some(v) = spec.and_then(|s| s.max_unavailable.as_ref()) {
            ev.val(format!("{prefix}.spec.maxUnavailable"), ios_display(v));
        }
        ev.val(
            format!("{prefix}.spec.unhealthyPodEvictionPolicy"),
            policy.map_or(Value::Null, Value::from),
        );
        let (allowed, how) = match &p.status {
            Some(s) => {
                ev.val(
                    format!("{prefix}.status.disruptionsAllowed"),
                    s.disruptions_allowed,
                );
                ev.val(format!("{prefix}.status.currentHealthy"), s.current_healthy);
                ev.val(format!("{prefix}.status.desiredHealthy"), s.desired_healthy);
                (
                    Some(s.disruptions_allowed),
                    format!(
                        "status.disruptionsAllowed {} (currentHealthy {}, desiredHealthy {})",
                        s.disruptions_allowed, s.current_healthy, s.desired_healthy
                    ),
                )
            }
            None => {
                let computed = match (
                    spec.and_then(|s| s.min_available.as_ref()),
                    spec.and_then(|s| s.max_unavailable.as_ref()),
                ) {
                    (Some(min), _) => scaled(min, expected, true).map(|m| expected - m),
                    (None, Some(max)) => scaled(max, expected, true),
                    (None, None) => None,
                };
                if let Some(c) = computed {
                    ev.val(format!("{prefix}.computedDisruptionsAllowed"), c);
                }
                (
                    computed,
                    format!("computed from the spec against {expected} replica(s)"),
                )
            }
        };
        let hint = if policy == Some("AlwaysAllow") {
            ""
        } else {
            "; also set spec.unhealthyPodEvictionPolicy: AlwaysAllow so crash-looping Pods never block a drain"
        };
        match allowed {
            Some(a) if a <= 0 => fails.push(format!(
                "PodDisruptionBudget {name} allows {a} disruptions ({how}), which blocks node drains; use spec.maxUnavailable: 1 or raise the replicas above minAvailable{hint}"
            )),
            Some(a) => passes.push(format!("PodDisruptionBudget {name} allows {a} disruption(s) ({how})")),
            None => warns.push(format!(
                "PodDisruptionBudget {name} has neither minAvailable nor maxUnavailable (or an unreadable value) and no status; its effect is unclear"
            )),
        }
    }
    if !fails.is_empty() {
        return Verdict::new(
            Outcome::Fail,
            format!("{}: {}", w.display(), fails.join("; ")),
            ev,
        );
    }
    if !warns.is_empty() {
        return Verdict::new(
            Outcome::Warn,
            format!("{}: {}", w.display(), warns.join("; ")),
            ev,
        );
    }
    Verdict::new(
        Outcome::Pass,
        format!("{}: {}", w.display(), passes.join("; ")),
        ev,
    )
}

pub fn graceful_shutdown(cx: &Cx<'_, '_>, params: &Params) -> Verdict {
    let w = cx.w;
    let max = i64::from(
        params
            .max_grace_period_seconds
            .unwrap_or(Params::DEFAULT_MAX_GRACE_PERIOD_SECONDS),
    );
    let spec = w.pod_spec();
    let mut ev = Evidence::default();
    ev.val(
        format!("{}.terminationGracePeriodSeconds", w.template_path),
        spec.termination_grace_period_seconds
            .map_or(Value::Null, Value::from),
    );
    ev.val("max_grace_period_seconds", max);
    let grace = spec.termination_grace_period_seconds.unwrap_or(30);
    if grace > max {
        return Verdict::new(
            Outcome::Fail,
            format!(
                "{} lets each Pod take up to {grace} s to stop ({}.terminationGracePeriodSeconds), which stretches every node drain; lower it to <= {max} and make the app exit promptly on SIGTERM",
                w.display(),
                w.template_path
            ),
            ev,
        );
    }
    let lacking: Vec<String> = if w.kind.is_batch() {
        Vec::new()
    } else {
        spec.containers
            .iter()
            .filter(|c: &&Container| {
                c.readiness_probe.is_none()
                    && c.lifecycle
                        .as_ref()
                        .and_then(|l| l.pre_stop.as_ref())
                        .is_none()
            })
            .map(|c| c.name.clone())
            .collect()
    };
    let stated = if spec.termination_grace_period_seconds.is_some() {
        format!("{grace} s")
    } else {
        "30 s (Kubernetes default)".to_string()
    };
    if !lacking.is_empty() {
        return Verdict::new(
            Outcome::Warn,
            format!(
                "{}: grace period {stated} is fine, but container(s) {} have neither lifecycle.preStop nor a readinessProbe, so requests may still arrive while they stop; add lifecycle.preStop (e.g. sleep 5)",
                w.display(),
                lacking.join(", ")
            ),
            ev,
        );
    }
    Verdict::new(
        Outcome::Pass,
        format!("{}: grace period {stated} (<= {max} s)", w.display()),
        ev,
    )
}

pub fn rollout(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    if w.kind.is_batch() {
        return Verdict::na(format!(
            "{} runs to completion; no rollout strategy",
            w.display()
        ));
    }
    let s = &w.strategy;
    let mut ev = Evidence::default();
    ev.val(
        format!("{}.type", s.field),
        s.type_.as_deref().map_or(Value::Null, Value::from),
    );
    if let Some(mu) = &s.max_unavailable {
        ev.val(
            format!("{}.rollingUpdate.maxUnavailable", s.field),
            ios_display(mu),
        );
    }
    if let Some(ms) = &s.max_surge {
        ev.val(
            format!("{}.rollingUpdate.maxSurge", s.field),
            ios_display(ms),
        );
    }
    let type_ = s.type_.as_deref();
    match (w.kind, type_) {
        (WorkloadKind::Rollout, Some(t)) => {
            return Verdict::new(
                Outcome::Pass,
                format!("{} uses the Argo Rollouts {t} strategy", w.display()),
                ev,
            );
        }
        (WorkloadKind::Rollout, None) => {
            return Verdict::new(
                Outcome::Warn,
                format!(
                    "{} has neither spec.strategy.canary nor spec.strategy.blueGreen",
                    w.display()
                ),
                ev,
            );
        }
        (WorkloadKind::Deployment, Some("Recreate")) => {
            return Verdict::new(
                Outcome::Fail,
                format!(
                    "{} uses spec.strategy.type Recreate: every deploy stops all Pods before starting new ones; use RollingUpdate",
                    w.display()
                ),
                ev,
            );
        }
        (WorkloadKind::StatefulSet | WorkloadKind::DaemonSet, Some("OnDelete")) => {
            return Verdict::new(
                Outcome::Fail,
                format!(
                    "{} uses spec.updateStrategy.type OnDelete: Pods are only updated when someone deletes them; use RollingUpdate",
                    w.display()
                ),
                ev,
            );
        }
        _ => {}
    }
    // A DaemonSet has one Pod per node: only "100%" takes all of them down at once (a count
    // equal to today's node count is normal on small clusters). Other workloads are measured
    // against the fewest replicas they may run, as the replicas check counts them: the HPA's
    // minReplicas, else spec.replicas.
    let daemon = w.kind == WorkloadKind::DaemonSet;
    if let Some(mu) = &s.max_unavailable {
        let (everything, with) = match mu {
            IntOrString::String(_) => (
                scaled(mu, 100, false).is_some_and(|v| v >= 100),
                String::new(),
            ),
            IntOrString::Int(_) if daemon => (false, String::new()),
            IntOrString::Int(i) => {
                let (total, from) = effective_min(cx, &mut ev);
                (
                    total >= 1 && *i >= total,
                    format!(" with {total} replica(s) ({from})"),
                )
            }
        };
        if everything {
            if matches!(mu, IntOrString::Int(_))
                && let Some(e) = source_error(
                    &cx.idx.snap.horizontal_pod_autoscalers,
                    "horizontalpodautoscalers",
                )
            {
                return error(format!(
                    "{e}; {} sets {}.rollingUpdate.maxUnavailable {}, which takes all Pods down at once unless an HPA keeps more than {} replica(s)",
                    w.display(),
                    s.field,
                    ios_display(mu),
                    w.replicas.unwrap_or(1)
                ));
            }
            return Verdict::new(
                Outcome::Fail,
                format!(
                    "{} sets {}.rollingUpdate.maxUnavailable {}{with}: an update may take all Pods down at once; set it below the replica count (e.g. 0 with maxSurge: 1)",
                    w.display(),
                    s.field,
                    ios_display(mu),
                ),
                ev,
            );
        }
    }
    Verdict::new(
        Outcome::Pass,
        format!(
            "{} rolls out gradually ({} {})",
            w.display(),
            s.field,
            type_.unwrap_or("RollingUpdate (default)")
        ),
        ev,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::*;
    use crate::snapshot::{Snapshot, Source};
    use crate::{CheckId, Outcome, Params};

    fn with_spec(name: &str, replicas: i32, spec: serde_json::Value, nodes: &[&str]) -> Snapshot {
        let mut s = healthy_shop();
        s.deployments = Source::Read(vec![deployment(name, replicas, spec.clone())]);
        s.pods = Source::Read(
            nodes
                .iter()
                .enumerate()
                .map(|(i, n)| pod(&format!("{name}-{i}"), name, n, spec.clone()))
                .collect(),
        );
        s
    }

    #[test]
    fn two_ready_replicas_pass_and_one_replica_fails_with_the_field_to_change() {
        let s = healthy_shop();
        let r = result_for(&s, CheckId::Replicas, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert_eq!(r.evidence.values["spec.replicas"], json!(2));
        assert_eq!(r.evidence.values["status.readyReplicas"], json!(2));
        assert_eq!(r.evidence.objects[0].to_string(), "Deployment shop/cart");

        let s = with_spec("cart", 1, good_pod_spec("cart"), &["n1"]);
        let r = result_for(&s, CheckId::Replicas, "cart");
        assert_eq!(r.outcome, Outcome::Fail);
        assert_eq!(
            r.message,
            "Deployment shop/cart has 1 replica(s); set spec.replicas >= 2 or an HPA with minReplicas >= 2"
        );
    }

    #[test]
    fn an_hpa_minimum_overrides_spec_replicas() {
        let mut s = with_spec("cart", 3, good_pod_spec("cart"), &["n1", "n2", "n3"]);
        s.horizontal_pod_autoscalers.push(obj(json!({
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "cart", "apiVersion": "apps/v1"},
                     "minReplicas": 1, "maxReplicas": 5}
        })));
        let r = result_for(&s, CheckId::Replicas, "cart");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.message.contains("spec.minReplicas >= 2"), "{}", r.message);
        assert!(
            r.evidence
                .objects
                .iter()
                .any(|o| o.kind == "HorizontalPodAutoscaler")
        );
    }

    #[test]
    fn unreadable_hpas_give_an_error_not_a_failure() {
        let mut s = with_spec("cart", 1, good_pod_spec("cart"), &["n1"]);
        s.horizontal_pod_autoscalers =
            Source::Forbidden("list horizontalpodautoscalers in shop".into());
        let r = result_for(&s, CheckId::Replicas, "cart");
        assert_eq!(r.outcome, Outcome::Error);
        assert!(
            r.message
                .starts_with("cannot list horizontalpodautoscalers: forbidden"),
            "{}",
            r.message
        );
    }

    #[test]
    fn a_deployment_at_zero_with_unreadable_rollouts_is_an_error_not_a_failure() {
        let mut s = with_spec("cart", 0, good_pod_spec("cart"), &[]);
        s.rollouts = Source::Forbidden("list rollouts.argoproj.io in shop".into());
        let r = result_for(&s, CheckId::Replicas, "cart");
        assert_eq!(r.outcome, Outcome::Error, "{}", r.message);
        assert!(r.message.contains("spec.workloadRef"), "{}", r.message);
        // Readable Rollouts that do not name it: a Deployment at 0 fails as any other.
        s.rollouts = Source::Read(Vec::new());
        assert_eq!(
            result_for(&s, CheckId::Replicas, "cart").outcome,
            Outcome::Fail
        );
    }

    #[test]
    fn daemon_sets_have_no_replica_count() {
        let mut s = healthy_shop();
        s.daemon_sets.push(obj(json!({
            "metadata": {"name": "agent", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": good_pod_spec("agent")}}
        })));
        assert_eq!(
            result_for(&s, CheckId::Replicas, "agent").outcome,
            Outcome::NotApplicable
        );
        assert_eq!(
            result_for(&s, CheckId::DrainCapacity, "agent").outcome,
            Outcome::NotApplicable
        );
    }

    #[test]
    fn probes_need_readiness_distinct_from_liveness_and_declared_ports() {
        assert_eq!(
            result_for(&healthy_shop(), CheckId::Probes, "cart").outcome,
            Outcome::Pass
        );

        let mut spec = good_pod_spec("cart");
        spec["containers"][0]["readinessProbe"] = spec["containers"][0]["livenessProbe"].clone();
        let r = result_for(
            &with_spec("cart", 2, spec, &["n1", "n2"]),
            CheckId::Probes,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.message.contains("identical"), "{}", r.message);

        let mut spec = good_pod_spec("cart");
        spec["containers"][0]
            .as_object_mut()
            .map(|c| c.remove("readinessProbe"));
        spec["containers"][0]["livenessProbe"]["httpGet"]["port"] = json!("metrics");
        let r = result_for(
            &with_spec("cart", 2, spec, &["n1", "n2"]),
            CheckId::Probes,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.contains("containers[app] has no readinessProbe"),
            "{}",
            r.message
        );
        assert!(
            r.message.contains("names port \"metrics\""),
            "{}",
            r.message
        );

        // A number: fine when a declared port has it (or none is declared), a warning otherwise.
        for (port, declared, outcome) in [
            (json!(8080), true, Outcome::Pass),
            (json!(8081), true, Outcome::Warn),
            (json!(8081), false, Outcome::Pass),
        ] {
            let mut spec = good_pod_spec("cart");
            spec["containers"][0]["readinessProbe"]["httpGet"]["port"] = port.clone();
            if !declared {
                spec["containers"][0]
                    .as_object_mut()
                    .map(|c| c.remove("ports"));
                spec["containers"][0]["livenessProbe"]["httpGet"]["port"] = json!(8081);
            }
            let r = result_for(
                &with_spec("cart", 2, spec, &["n1", "n2"]),
                CheckId::Probes,
                "cart",
            );
            assert_eq!(
                r.outcome, outcome,
                "{port} declared={declared}: {}",
                r.message
            );
            if outcome == Outcome::Warn {
                assert!(
                    r.message.contains("httpGet.port is 8081") && r.message.contains("(8080)"),
                    "{}",
                    r.message
                );
            }
        }
    }

    #[test]
    fn a_slow_starter_without_startup_probe_fails_and_is_told_the_probe_to_add() {
        let mut spec = good_pod_spec("cart");
        spec["containers"][0]["livenessProbe"]["initialDelaySeconds"] = json!(90);
        let r = result_for(
            &with_spec("cart", 2, spec.clone(), &["n1", "n2"]),
            CheckId::Probes,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("livenessProbe.initialDelaySeconds is 90 (a slow starter)")
                && r.message.contains(
                    "add a startupProbe (the liveness check with periodSeconds 10 and failureThreshold 18"
                ),
            "{}",
            r.message
        );
        // With a startupProbe it passes.
        spec["containers"][0]["startupProbe"] =
            json!({"httpGet": {"path": "/live", "port": "http"}, "failureThreshold": 18});
        let r = result_for(
            &with_spec("cart", 2, spec, &["n1", "n2"]),
            CheckId::Probes,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
    }

    #[test]
    fn topology_spread_alone_satisfies_spread_without_anti_affinity() {
        let s = healthy_shop();
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(
            r.message
                .contains("topologySpreadConstraints on kubernetes.io/hostname")
        );
        assert_eq!(r.evidence.values["nodes"], json!(["n1", "n2"]));
    }

    #[test]
    fn anti_affinity_alone_also_satisfies_spread() {
        let mut spec = good_pod_spec("cart");
        spec.as_object_mut()
            .map(|m| m.remove("topologySpreadConstraints"));
        spec["affinity"] = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "cart"}}}
        }]}});
        let r = result_for(
            &with_spec("cart", 2, spec, &["n1", "n2"]),
            CheckId::Spread,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
    }

    #[test]
    fn pods_spread_by_chance_without_a_rule_pass_with_a_warning_saying_how_to_make_it_one() {
        let mut spec = good_pod_spec("cart");
        spec.as_object_mut()
            .map(|m| m.remove("topologySpreadConstraints"));
        // n1 in z1, n2 in z2: really spread over nodes and zones.
        let r = result_for(
            &with_spec("cart", 2, spec.clone(), &["n1", "n2"]),
            CheckId::Spread,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Warn, "{}", r.message);
        for said in [
            "runs on 2 nodes in 2 zones, but by chance",
            "add topologySpreadConstraints with topologyKey kubernetes.io/hostname and topology.kubernetes.io/zone",
            "to make the spread a rule",
        ] {
            assert!(r.message.contains(said), "{}", r.message);
        }
        // Not spread and no rule: both are said.
        let r = result_for(
            &with_spec("cart", 2, spec, &["n1", "n1"]),
            CheckId::Spread,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains("all 2 running Pods are on node n1")
                && r.message.contains("do not spread the Pods"),
            "{}",
            r.message
        );
    }

    #[test]
    fn a_replicated_workload_read_from_a_cluster_without_running_pods_fails_spread() {
        let mut s = healthy_shop();
        s.pods = Source::Read(Vec::new());
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("no running Pod of it was found, so it runs on no node")
                && r.message
                    .contains("kubectl describe deployment -n shop cart"),
            "{}",
            r.message
        );
        // A Deployment from manifests (no status) beside a List of Pods cannot show where it
        // runs: a warning, as before.
        if let Source::Read(ds) = &mut s.deployments {
            ds[0].status = None;
        }
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Warn, "{}", r.message);
        assert!(
            r.message.contains("no running Pods were found to confirm"),
            "{}",
            r.message
        );
    }

    #[test]
    fn spread_fails_on_one_node_and_for_one_replica() {
        let r = result_for(
            &with_spec("cart", 2, good_pod_spec("cart"), &["n1", "n1"]),
            CheckId::Spread,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.contains("all 2 running Pods are on node n1"),
            "{}",
            r.message
        );

        let r = result_for(
            &with_spec("cart", 1, good_pod_spec("cart"), &["n1"]),
            CheckId::Spread,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.message.contains("cannot be spread"), "{}", r.message);
    }

    #[test]
    fn a_multi_zone_cluster_needs_two_zones() {
        // n2 and n3 are both in zone z2.
        let r = result_for(
            &with_spec("cart", 2, good_pod_spec("cart"), &["n2", "n3"]),
            CheckId::Spread,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.contains("all Pods run in zone z2"),
            "{}",
            r.message
        );
    }

    /// `cart` on n2 and n3 (both in zone z2), with a tainted node `gpu` as the only node of zone
    /// z1 (n1 removed).
    fn cart_in_one_zone_beside_a_tainted_pool(spec: serde_json::Value) -> Snapshot {
        let mut s = with_spec("cart", 2, spec, &["n2", "n3"]);
        let mut gpu = node("gpu", "z1", "8", "32Gi");
        gpu.spec = Some(obj(json!({"taints": [
            {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
        ]})));
        s.nodes = Source::Read(vec![
            gpu,
            node("n2", "z2", "4", "8Gi"),
            node("n3", "z2", "4", "8Gi"),
        ]);
        s
    }

    #[test]
    fn zones_the_pods_cannot_be_scheduled_in_do_not_make_the_cluster_multi_zone() {
        // The only node of z1 is a GPU node whose taint cart does not tolerate.
        let s = cart_in_one_zone_beside_a_tainted_pool(good_pod_spec("cart"));
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(r.message.contains("run on 2 nodes"), "{}", r.message);
        assert_eq!(r.evidence.values["cluster_zones"], json!(2));
        assert_eq!(r.evidence.values["schedulable_zones"], json!(["z2"]));

        // Tolerating the taint, cart could run in z1 too: all Pods in z2 fails.
        let mut tolerant = good_pod_spec("cart");
        tolerant["tolerations"] = json!([{"key": "nvidia.com/gpu", "operator": "Exists"}]);
        let s = cart_in_one_zone_beside_a_tainted_pool(tolerant.clone());
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains(
                "its Pods could be scheduled in 2 zones (z1, z2), but all Pods run in zone z2"
            ),
            "{}",
            r.message
        );

        // A nodeSelector or required node affinity the z1 node does not match rules it out.
        let mut selective = tolerant.clone();
        selective["nodeSelector"] = json!({"pool": "web"});
        let mut s = cart_in_one_zone_beside_a_tainted_pool(selective);
        if let Source::Read(nodes) = &mut s.nodes {
            for n in nodes
                .iter_mut()
                .filter(|n| n.metadata.name.as_deref() != Some("gpu"))
            {
                if let Some(l) = n.metadata.labels.as_mut() {
                    l.insert("pool".into(), "web".into());
                }
            }
        }
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        let mut affine = tolerant.clone();
        affine["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["z2"]}]}]}}});
        let s = cart_in_one_zone_beside_a_tainted_pool(affine);
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);

        // A cordoned node takes no new Pods: its zone does not count either.
        let mut s = cart_in_one_zone_beside_a_tainted_pool(tolerant);
        if let Source::Read(nodes) = &mut s.nodes {
            for n in nodes
                .iter_mut()
                .filter(|n| n.metadata.name.as_deref() == Some("gpu"))
            {
                n.spec = Some(obj(json!({"unschedulable": true, "taints": [
                    {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
                ]})));
            }
        }
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
    }

    #[test]
    fn a_toleration_admission_gave_the_running_pods_counts_for_the_zones_they_may_use() {
        // The template tolerates nothing; a webhook added the GPU toleration to the Pods.
        let mut s = cart_in_one_zone_beside_a_tainted_pool(good_pod_spec("cart"));
        let mut running = good_pod_spec("cart");
        running["tolerations"] = json!([{"key": "nvidia.com/gpu", "operator": "Exists"}]);
        s.pods = Source::Read(vec![
            pod("cart-0", "cart", "n2", running.clone()),
            pod("cart-1", "cart", "n3", running),
        ]);
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert_eq!(r.evidence.values["schedulable_zones"], json!(["z1", "z2"]));
    }

    #[test]
    fn spread_asks_for_the_min_replicas_parameter() {
        let min = |n: u32| Params {
            min_replicas: Some(n),
            ..Params::default()
        };
        let r = result_with(&healthy_shop(), CheckId::Spread, "cart", min(3));
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("fewer than the 3 required; set spec.replicas >= 3"),
            "{}",
            r.message
        );
        assert_eq!(r.evidence.values["required"], json!(3));

        let s = with_spec("cart", 3, good_pod_spec("cart"), &["n1", "n2", "n3"]);
        let r = result_with(&s, CheckId::Spread, "cart", min(3));
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);

        // min_replicas 1 accepts a single replica: nothing to spread. The default still refuses it.
        let s = with_spec("cart", 1, good_pod_spec("cart"), &["n1"]);
        let r = result_with(&s, CheckId::Spread, "cart", min(1));
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(r.message.contains("nothing to spread"), "{}", r.message);
        assert_eq!(
            result_for(&s, CheckId::Spread, "cart").outcome,
            Outcome::Fail
        );
    }

    #[test]
    fn nodes_with_only_the_legacy_zone_label_count_as_zones() {
        let legacy = |name: &str, zone: &str| {
            let mut n = node(name, zone, "4", "8Gi");
            if let Some(l) = n.metadata.labels.as_mut() {
                l.remove("topology.kubernetes.io/zone");
                l.insert("failure-domain.beta.kubernetes.io/zone".into(), zone.into());
            }
            n
        };
        let mut s = with_spec("cart", 2, good_pod_spec("cart"), &["n2", "n3"]);
        s.nodes = Source::Read(vec![
            legacy("n1", "z1"),
            legacy("n2", "z2"),
            legacy("n3", "z2"),
        ]);
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains("all Pods run in zone z2"),
            "{}",
            r.message
        );
        assert_eq!(r.evidence.values["cluster_zones"], json!(2));

        // The current label wins over the legacy one on a node that has both.
        let mut both = legacy("n3", "z2");
        if let Some(l) = both.metadata.labels.as_mut() {
            l.insert("topology.kubernetes.io/zone".into(), "z3".into());
        }
        s.nodes = Source::Read(vec![legacy("n1", "z1"), legacy("n2", "z2"), both]);
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert_eq!(r.evidence.values["zones"], json!(["z2", "z3"]));
    }

    #[test]
    fn unreadable_nodes_make_spread_an_error() {
        let mut s = healthy_shop();
        s.nodes = Source::Forbidden("list nodes at the cluster scope".into());
        let r = result_for(&s, CheckId::Spread, "cart");
        assert_eq!(r.outcome, Outcome::Error);
        assert!(
            r.message.contains("cannot list nodes: forbidden"),
            "{}",
            r.message
        );
    }

    #[test]
    fn drain_capacity_passes_with_room_and_fails_when_full_or_on_one_node() {
        let s = healthy_shop();
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(r.evidence.values.contains_key("scope"));

        let r = result_for(
            &with_spec("cart", 2, good_pod_spec("cart"), &["n1", "n1"]),
            CheckId::DrainCapacity,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Fail);

        let mut spec = good_pod_spec("cart");
        spec["containers"][0]["resources"]["requests"]["cpu"] = json!("3");
        let mut s = with_spec("cart", 2, spec, &["n1", "n2"]);
        s.nodes = Source::Read(vec![
            node("n1", "z1", "4", "8Gi"),
            node("n2", "z2", "4", "8Gi"),
        ]);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(r.message.contains("draining node n1"), "{}", r.message);
    }

    #[test]
    fn other_namespaces_pods_take_room_on_the_nodes_a_drain_needs() {
        use crate::snapshot::NodeLoad;
        let mut spec = good_pod_spec("cart");
        spec["containers"][0]["resources"]["requests"]["cpu"] = json!("3");
        let mut s = with_spec("cart", 2, spec, &["n1", "n2"]);
        s.nodes = Source::Read(vec![
            node("n1", "z1", "4", "8Gi"),
            node("n2", "z2", "4", "8Gi"),
            node("n3", "z3", "4", "8Gi"),
        ]);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(r.message.contains("every namespace"), "{}", r.message);

        // Another team's Pods already ask for 2 of n3's 4 cores: a drained Pod of 3 fits nowhere.
        s.node_loads = Source::Read(vec![NodeLoad {
            node: "n3".into(),
            cpu_millis: 2000,
            memory_bytes: 1 << 30,
            pods: 4,
        }]);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(r.message.contains("draining node n1"), "{}", r.message);

        // When the other namespaces could not be read, the verdict says what it could not count.
        s.node_loads = Source::Forbidden("list pods in all namespaces is forbidden".into());
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(
            r.message.contains("only the application's namespaces"),
            "{}",
            r.message
        );
        assert!(
            r.evidence.values["scope"]
                .as_str()
                .unwrap()
                .contains("forbidden"),
            "{:?}",
            r.evidence.values
        );
    }

    /// `cart` and `web` (2 replicas each, 2 CPUs a Pod) share n1 and n2, which they fill; n3
    /// has 3 free CPUs: room for one Pod of a drained node, not for two.
    fn two_apps_sharing_nodes() -> Snapshot {
        let mut s = healthy_shop();
        let big = |app: &str| {
            let mut spec = good_pod_spec(app);
            spec["containers"][0]["resources"]["requests"]["cpu"] = json!("2");
            spec["containers"][0]["resources"]["limits"]["cpu"] = json!("2");
            spec
        };
        s.deployments = Source::Read(vec![
            deployment("cart", 2, big("cart")),
            deployment("web", 2, big("web")),
        ]);
        s.pods = Source::Read(vec![
            pod("cart-0", "cart", "n1", big("cart")),
            pod("cart-1", "cart", "n2", big("cart")),
            pod("web-0", "web", "n1", big("web")),
            pod("web-1", "web", "n2", big("web")),
        ]);
        s.nodes = Source::Read(vec![
            node("n1", "z1", "4", "8Gi"),
            node("n2", "z2", "4", "8Gi"),
            node("n3", "z2", "3", "8Gi"),
        ]);
        s
    }

    #[test]
    fn two_workloads_that_fit_a_drain_one_at_a_time_fail_it_together() {
        let s = two_apps_sharing_nodes();
        let cart = result_for(&s, CheckId::DrainCapacity, "cart");
        let web = result_for(&s, CheckId::DrainCapacity, "web");
        assert_eq!(cart.outcome, Outcome::Fail, "{}", cart.message);
        assert_eq!(web.outcome, Outcome::Fail, "{}", web.message);
        // The Pod left over names the node it lacks room on; the other workload is told its Pod
        // takes that room.
        assert!(
            web.message.contains(
                "draining node n1 leaves Pod web-0 (cpu 2000m, memory 128Mi) with no node to go to: not enough free CPU, memory or Pod slots on n2, n3 (evicted together with 1 other Pod(s) of the application: cart-0)"
            ),
            "{}",
            web.message
        );
        assert!(
            cart.message.contains("cart-0 takes the room on n3")
                && cart.message.contains("web-0 is left with no node to go to"),
            "{}",
            cart.message
        );
        assert!(
            web.message.contains(
                "spread the application's workloads so that fewer of its Pods share a node"
            ),
            "{}",
            web.message
        );
        assert_eq!(
            cart.evidence.values["nodes"]["n1"]["other_pods_evicted"],
            json!(1)
        );

        // Each alone fits: the old per-workload answer.
        for app in ["cart", "web"] {
            let mut alone = two_apps_sharing_nodes();
            if let (Source::Read(ds), Source::Read(ps)) = (&mut alone.deployments, &mut alone.pods)
            {
                ds.retain(|d| d.metadata.name.as_deref() == Some(app));
                ps.retain(|p| {
                    p.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("app"))
                        .map(String::as_str)
                        == Some(app)
                });
            }
            let r = result_for(&alone, CheckId::DrainCapacity, app);
            assert_eq!(r.outcome, Outcome::Pass, "{app}: {}", r.message);
        }
    }

    #[test]
    fn a_small_pod_placed_after_a_big_one_failed_takes_no_blame() {
        let mut s = healthy_shop();
        let sized = |app: &str, cpu: &str| {
            let mut spec = good_pod_spec(app);
            spec["containers"][0]["resources"]["requests"]["cpu"] = json!(cpu);
            spec["containers"][0]["resources"]["limits"]["cpu"] = json!(cpu);
            spec
        };
        s.deployments = Source::Read(vec![
            deployment("web", 2, sized("web", "3")),
            deployment("cart", 2, sized("cart", "1")),
        ]);
        s.pods = Source::Read(vec![
            pod("web-0", "web", "n1", sized("web", "3")),
            pod("cart-0", "cart", "n1", sized("cart", "1")),
            pod("web-1", "web", "n2", sized("web", "3")),
            pod("cart-1", "cart", "n2", sized("cart", "1")),
        ]);
        s.nodes = Source::Read(vec![
            node("n1", "z1", "4", "8Gi"),
            node("n2", "z2", "4", "8Gi"),
            node("n3", "z2", "1500m", "8Gi"),
        ]);
        // Draining n1: web-0 (3 CPUs) goes first and fits nowhere (n3 never had room for it);
        // cart-0 then takes n3. Web fails; cart took nothing web-0 could have used.
        let web = result_for(&s, CheckId::DrainCapacity, "web");
        let cart = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(web.outcome, Outcome::Fail, "{}", web.message);
        assert_eq!(cart.outcome, Outcome::Pass, "{}", cart.message);
        assert!(
            cart.message
                .contains("for reasons this workload's Pods do not cause"),
            "{}",
            cart.message
        );
    }

    #[test]
    fn required_anti_affinity_keeps_a_drained_pod_off_its_siblings_node() {
        let mut spec = good_pod_spec("cart");
        spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "cart"}}}
        ]}});
        let s = with_spec("cart", 2, spec.clone(), &["n1", "n2"]);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);

        let mut s = with_spec("cart", 2, spec, &["n1", "n2"]);
        s.nodes = Source::Read(vec![
            node("n1", "z1", "4", "8Gi"),
            node("n2", "z2", "4", "8Gi"),
        ]);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("its required podAntiAffinity rules out n2 (a matching Pod runs there)"),
            "{}",
            r.message
        );
    }

    #[test]
    fn a_pod_that_fits_nowhere_anyway_does_not_fail_its_neighbours() {
        // web-0 shares n1 with cart-a but asks for a label no node has: it fails on its own,
        // and cart, whose Pods took none of the room web-0 could use, still passes.
        let mut s = healthy_shop();
        let mut web = good_pod_spec("web");
        web["nodeSelector"] = json!({"gpu": "a100"});
        s.deployments.push(deployment("web", 2, web.clone()));
        s.pods.push(pod("web-0", "web", "n1", web.clone()));
        s.pods.push(pod("web-1", "web", "n2", web));
        let r = result_for(&s, CheckId::DrainCapacity, "web");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(
            r.message
                .contains("Pod web-0, also evicted from node n1, finds no node to go to"),
            "{}",
            r.message
        );
    }

    /// `cart` (2 replicas of 3 CPUs on n1 and n2, 4 CPUs each) and a third node with room.
    fn cart_with_a_spare_node(
        spare: k8s_openapi::api::core::v1::Node,
        spec: serde_json::Value,
    ) -> Snapshot {
        let mut spec = spec;
        spec["containers"][0]["resources"]["requests"]["cpu"] = json!("3");
        spec["containers"][0]["resources"]["limits"]["cpu"] = json!("3");
        let mut s = with_spec("cart", 2, spec, &["n1", "n2"]);
        s.nodes = Source::Read(vec![
            node("n1", "z1", "4", "8Gi"),
            node("n2", "z2", "4", "8Gi"),
            spare,
        ]);
        s
    }

    fn control_plane_node() -> k8s_openapi::api::core::v1::Node {
        let mut cp = node("cp1", "z1", "4", "8Gi");
        cp.spec = Some(obj(json!({"taints": [
            {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
        ]})));
        cp
    }

    #[test]
    fn a_tainted_control_plane_node_is_no_room_for_a_drain_unless_tolerated() {
        let s = cart_with_a_spare_node(control_plane_node(), good_pod_spec("cart"));
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains(
                "taints it does not tolerate on cp1 (node-role.kubernetes.io/control-plane:NoSchedule)"
            ),
            "{}",
            r.message
        );
        assert!(r.message.contains("add tolerations"), "{}", r.message);

        // A toleration (Exists, matching effect) lets the Pods use it.
        let mut spec = good_pod_spec("cart");
        spec["tolerations"] = json!([{
            "key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"
        }]);
        let s = cart_with_a_spare_node(control_plane_node(), spec);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);

        // A toleration of another effect, key or value does not.
        for toleration in [
            json!({"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoExecute"}),
            json!({"key": "node-role.kubernetes.io/master", "operator": "Exists"}),
            json!({"key": "node-role.kubernetes.io/control-plane", "value": "true"}),
        ] {
            let mut spec = good_pod_spec("cart");
            spec["tolerations"] = json!([toleration]);
            let s = cart_with_a_spare_node(control_plane_node(), spec);
            let r = result_for(&s, CheckId::DrainCapacity, "cart");
            assert_eq!(r.outcome, Outcome::Fail, "{toleration}: {}", r.message);
        }
        // An empty key with Exists tolerates everything.
        let mut spec = good_pod_spec("cart");
        spec["tolerations"] = json!([{"operator": "Exists"}]);
        let s = cart_with_a_spare_node(control_plane_node(), spec);
        assert_eq!(
            result_for(&s, CheckId::DrainCapacity, "cart").outcome,
            Outcome::Pass
        );
    }

    fn with_label(
        mut n: k8s_openapi::api::core::v1::Node,
        k: &str,
        v: &str,
    ) -> k8s_openapi::api::core::v1::Node {
        n.metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.into(), v.into());
        n
    }

    #[test]
    fn a_node_selector_keeps_drained_pods_off_nodes_it_does_not_match() {
        let mut spec = good_pod_spec("cart");
        spec["nodeSelector"] = json!({"disk": "ssd"});
        let ssd = |name: &str, zone: &str| with_label(node(name, zone, "4", "8Gi"), "disk", "ssd");
        let mut s = cart_with_a_spare_node(node("n3", "z2", "4", "8Gi"), spec);
        s.nodes = Source::Read(vec![
            ssd("n1", "z1"),
            ssd("n2", "z2"),
            node("n3", "z2", "4", "8Gi"),
        ]);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains(
                "draining node n1 leaves Pod cart-0 (cpu 3000m, memory 128Mi) with no node to go to: not enough free CPU, memory or Pod slots on n2; its nodeSelector does not match n3"
            ),
            "{}",
            r.message
        );
        assert!(
            r.message.contains("let more nodes qualify"),
            "{}",
            r.message
        );

        s.nodes = Source::Read(vec![ssd("n1", "z1"), ssd("n2", "z2"), ssd("n3", "z2")]);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
    }

    #[test]
    fn required_node_affinity_ors_its_terms_and_ands_their_expressions() {
        let n = with_label(
            with_label(node("n3", "z2", "4", "8Gi"), "disk", "ssd"),
            "cores",
            "16",
        );
        let matches = |terms: serde_json::Value| {
            let required: k8s_openapi::api::core::v1::NodeSelector =
                obj(json!({"nodeSelectorTerms": terms}));
            super::node_affinity_matches(&required, &n)
        };
        let expr = |key: &str, op: &str, values: &[&str]| json!({"key": key, "operator": op, "values": values});
        for (e, want) in [
            (expr("disk", "In", &["ssd", "nvme"]), true),
            (expr("disk", "In", &["hdd"]), false),
            (expr("disk", "NotIn", &["hdd"]), true),
            (expr("gpu", "NotIn", &["a100"]), true),
            (expr("disk", "Exists", &[]), true),
            (expr("gpu", "Exists", &[]), false),
            (expr("gpu", "DoesNotExist", &[]), true),
            (expr("disk", "DoesNotExist", &[]), false),
            (expr("cores", "Gt", &["8"]), true),
            (expr("cores", "Gt", &["16"]), false),
            (expr("cores", "Lt", &["32"]), true),
            (expr("disk", "Lt", &["32"]), false),
            (expr("cores", "Gt", &["8", "9"]), false),
        ] {
            assert_eq!(
                matches(json!([{"matchExpressions": [e.clone()]}])),
                want,
                "{e}"
            );
        }
        // Expressions of a term are ANDed, terms ORed; a term without expressions matches nothing.
        let ssd = expr("disk", "In", &["ssd"]);
        let gpu = expr("gpu", "Exists", &[]);
        assert!(!matches(
            json!([{"matchExpressions": [ssd.clone(), gpu.clone()]}])
        ));
        assert!(matches(
            json!([{"matchExpressions": [gpu.clone()]}, {"matchExpressions": [ssd]}])
        ));
        assert!(!matches(json!([{}])));
        assert!(matches(
            json!([{"matchFields": [expr("metadata.name", "In", &["n3"])]}])
        ));

        // In a drain: n3 does not qualify for Pods that require a GPU.
        let mut spec = good_pod_spec("cart");
        spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchExpressions": [gpu]}]}}});
        let s = cart_with_a_spare_node(n.clone(), spec);
        let r = result_for(&s, CheckId::DrainCapacity, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("its required node affinity rules out n2, n3"),
            "{}",
            r.message
        );
    }

    fn pdb(
        spec: serde_json::Value,
        status: Option<serde_json::Value>,
    ) -> k8s_openapi::api::policy::v1::PodDisruptionBudget {
        let mut v = json!({"metadata": {"name": "cart", "namespace": "shop"}, "spec": spec});
        if let Some(st) = status {
            v["status"] = st;
        }
        obj(v)
    }

    #[test]
    fn a_budget_that_allows_no_disruption_fails() {
        assert_eq!(
            result_for(&healthy_shop(), CheckId::DisruptionBudget, "cart").outcome,
            Outcome::Pass
        );

        let mut s = healthy_shop();
        s.pod_disruption_budgets.push(pdb(
            json!({"minAvailable": 2, "selector": {"matchLabels": {"app": "cart"}}}),
            None,
        ));
        let r = result_for(&s, CheckId::DisruptionBudget, "cart");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.message.contains("AlwaysAllow"), "{}", r.message);

        let mut s = healthy_shop();
        s.pod_disruption_budgets.push(pdb(
            json!({"maxUnavailable": 1, "selector": {"matchLabels": {"app": "cart"}}}),
            Some(json!({"currentHealthy": 2, "desiredHealthy": 1, "disruptionsAllowed": 1, "expectedPods": 2})),
        ));
        assert_eq!(
            result_for(&s, CheckId::DisruptionBudget, "cart").outcome,
            Outcome::Pass
        );
    }

    #[test]
    fn a_budget_without_status_is_weighed_against_the_replicas_an_hpa_may_scale_down_to() {
        // Three replicas and minAvailable 2 (a manifest, no status): one disruption allowed.
        let with_budget = |hpa: Option<serde_json::Value>| {
            let mut s = cart_max_unavailable_one(Some(3));
            s.pod_disruption_budgets.push(pdb(
                json!({"minAvailable": 2, "selector": {"matchLabels": {"app": "cart"}}}),
                None,
            ));
            if let Some(spec) = hpa {
                s.horizontal_pod_autoscalers.push(obj(json!({
                    "metadata": {"name": "cart", "namespace": "shop"},
                    "spec": spec,
                })));
            }
            result_for(&s, CheckId::DisruptionBudget, "cart")
        };
        let r = with_budget(None);
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        // An HPA without minReplicas may scale to one replica (the API's default), where
        // minAvailable 2 blocks every drain: as the replicas, rollout and drain checks count.
        let target = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart"});
        let r = with_budget(Some(json!({"scaleTargetRef": target, "maxReplicas": 10})));
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(r.message.contains("against 1 replica(s)"), "{}", r.message);
        let r = with_budget(Some(
            json!({"scaleTargetRef": target, "minReplicas": 4, "maxReplicas": 10}),
        ));
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(r.message.contains("against 4 replica(s)"), "{}", r.message);
    }

    #[test]
    fn a_budget_of_daemon_set_pods_does_not_apply_since_drains_leave_them() {
        let mut s = healthy_shop();
        s.daemon_sets.push(obj(json!({
            "metadata": {"name": "agent", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": good_pod_spec("agent")}}
        })));
        s.pods
            .push(pod("agent-x", "agent", "n1", good_pod_spec("agent")));
        s.pod_disruption_budgets.push(obj(json!({
            "metadata": {"name": "agent", "namespace": "shop"},
            "spec": {"minAvailable": "100%", "selector": {"matchLabels": {"app": "agent"}}},
            "status": {"currentHealthy": 1, "desiredHealthy": 1, "disruptionsAllowed": 0, "expectedPods": 1}
        })));
        let r = result_for(&s, CheckId::DisruptionBudget, "agent");
        assert_eq!(r.outcome, Outcome::NotApplicable, "{}", r.message);
        assert!(r.message.contains("--ignore-daemonsets"), "{}", r.message);
    }

    #[test]
    fn pods_selected_by_two_budgets_block_drains() {
        let mut s = healthy_shop();
        for (name, selector) in [
            ("cart", json!({"matchLabels": {"app": "cart"}})),
            (
                "shop-wide",
                json!({"matchExpressions": [{"key": "app", "operator": "Exists"}]}),
            ),
        ] {
            s.pod_disruption_budgets.push(obj(json!({
                "metadata": {"name": name, "namespace": "shop"},
                "spec": {"maxUnavailable": 1, "selector": selector},
                "status": {"currentHealthy": 2, "desiredHealthy": 1, "disruptionsAllowed": 1, "expectedPods": 2}
            })));
        }
        let r = result_for(&s, CheckId::DisruptionBudget, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains(
                "selected by more than one PodDisruptionBudget (cart, shop-wide); the eviction API refuses to evict such Pods"
            ),
            "{}",
            r.message
        );
    }

    #[test]
    fn a_percentage_budget_is_computed_against_the_replicas() {
        let mut s = healthy_shop();
        s.pod_disruption_budgets.push(pdb(
            json!({"minAvailable": "50%", "selector": {"matchLabels": {"app": "cart"}}}),
            None,
        ));
        let r = result_for(&s, CheckId::DisruptionBudget, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert_eq!(
            r.evidence.values["pdb[cart].computedDisruptionsAllowed"],
            json!(1)
        );
    }

    #[test]
    fn long_grace_periods_fail_and_missing_shutdown_handling_warns() {
        let r = result_for(&healthy_shop(), CheckId::GracefulShutdown, "cart");
        assert_eq!(r.outcome, Outcome::Pass);
        assert!(r.message.contains("30 s (Kubernetes default)"));

        let mut spec = good_pod_spec("cart");
        spec["terminationGracePeriodSeconds"] = json!(600);
        let r = result_for(
            &with_spec("cart", 2, spec, &["n1", "n2"]),
            CheckId::GracefulShutdown,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Fail);

        let mut spec = good_pod_spec("cart");
        spec["containers"][0]
            .as_object_mut()
            .map(|c| c.remove("readinessProbe"));
        let r = result_for(
            &with_spec("cart", 2, spec, &["n1", "n2"]),
            CheckId::GracefulShutdown,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Warn);
        let r = result_with(
            &healthy_shop(),
            CheckId::GracefulShutdown,
            "cart",
            Params {
                max_grace_period_seconds: Some(20),
                ..Params::default()
            },
        );
        assert_eq!(r.outcome, Outcome::Fail);
    }

    #[test]
    fn recreate_on_delete_and_full_unavailability_fail_the_rollout_check() {
        assert_eq!(
            result_for(&healthy_shop(), CheckId::Rollout, "cart").outcome,
            Outcome::Pass
        );

        let mut s = healthy_shop();
        let mut d = deployment("cart", 2, good_pod_spec("cart"));
        if let Some(sp) = d.spec.as_mut() {
            sp.strategy = Some(obj(json!({"type": "Recreate"})));
        }
        s.deployments = Source::Read(vec![d]);
        assert_eq!(
            result_for(&s, CheckId::Rollout, "cart").outcome,
            Outcome::Fail
        );

        let mut d = deployment("cart", 2, good_pod_spec("cart"));
        if let Some(sp) = d.spec.as_mut() {
            sp.strategy = Some(obj(
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "100%"}}),
            ));
        }
        s.deployments = Source::Read(vec![d]);
        assert_eq!(
            result_for(&s, CheckId::Rollout, "cart").outcome,
            Outcome::Fail
        );

        s.deployments = Source::Read(vec![]);
        s.stateful_sets.push(obj(json!({
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
                     "updateStrategy": {"type": "OnDelete"},
                     "template": {"metadata": {"labels": {"app": "db"}}, "spec": good_pod_spec("db")}}
        })));
        assert_eq!(
            result_for(&s, CheckId::Rollout, "db").outcome,
            Outcome::Fail
        );
    }

    /// `cart` with the given spec.replicas (none: absent) and a RollingUpdate that takes one Pod
    /// down at a time.
    fn cart_max_unavailable_one(replicas: Option<i32>) -> Snapshot {
        let mut s = healthy_shop();
        let mut d = deployment("cart", 2, good_pod_spec("cart"));
        if let Some(sp) = d.spec.as_mut() {
            sp.replicas = replicas;
            sp.strategy = Some(obj(
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}),
            ));
        }
        s.deployments = Source::Read(vec![d]);
        s
    }

    fn hpa_for_cart(min: i32) -> k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler {
        obj(json!({
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart"},
                     "minReplicas": min, "maxReplicas": 10}
        }))
    }

    #[test]
    fn the_rollout_check_counts_the_replicas_an_hpa_keeps() {
        // Scaled by an HPA with minReplicas 3 and no spec.replicas: one Pod down of three.
        let mut s = cart_max_unavailable_one(None);
        s.horizontal_pod_autoscalers.push(hpa_for_cart(3));
        let r = result_for(&s, CheckId::Rollout, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(
            r.evidence
                .objects
                .iter()
                .any(|o| o.kind == "HorizontalPodAutoscaler"),
            "{:?}",
            r.evidence.objects
        );
        // An HPA that may scale down to one replica: one unavailable is all of them, whatever
        // spec.replicas says.
        let mut s = cart_max_unavailable_one(Some(3));
        s.horizontal_pod_autoscalers.push(hpa_for_cart(1));
        let r = result_for(&s, CheckId::Rollout, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("with 1 replica(s) (HorizontalPodAutoscaler shop/cart spec.minReplicas)"),
            "{}",
            r.message
        );
        // Without an HPA, spec.replicas decides (absent: 1).
        let s = cart_max_unavailable_one(None);
        let r = result_for(&s, CheckId::Rollout, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains("with 1 replica(s) (spec.replicas)"),
            "{}",
            r.message
        );
        assert_eq!(
            result_for(&cart_max_unavailable_one(Some(2)), CheckId::Rollout, "cart").outcome,
            Outcome::Pass
        );
        // HPAs unreadable: whether one unavailable is all of them cannot be told.
        let mut s = cart_max_unavailable_one(None);
        s.horizontal_pod_autoscalers = Source::Forbidden("list horizontalpodautoscalers".into());
        let r = result_for(&s, CheckId::Rollout, "cart");
        assert_eq!(r.outcome, Outcome::Error, "{}", r.message);
    }

    #[test]
    fn argo_rollouts_are_workloads_and_pass_the_rollout_check() {
        let mut s = healthy_shop();
        s.deployments = Source::Read(vec![]);
        s.rollouts.push(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "cart", "namespace": "shop", "resourceVersion": "7"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "cart"}},
                     "strategy": {"canary": {"steps": [{"setWeight": 20}]}},
                     "template": {"metadata": {"labels": {"app": "cart"}}, "spec": good_pod_spec("cart")}},
            "status": {"readyReplicas": 2}
        }));
        let r = result_for(&s, CheckId::Rollout, "cart");
        assert_eq!(r.subject.kind, "Rollout");
        assert_eq!(r.outcome, Outcome::Pass);
        assert_eq!(
            result_for(&s, CheckId::Replicas, "cart").outcome,
            Outcome::Pass
        );
        assert_eq!(
            result_for(&s, CheckId::Spread, "cart").outcome,
            Outcome::Pass
        );
    }
}
