//! Checks of running the application in production: metrics and alerts, backups, TLS.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};
use serde_json::{Value, json};

use super::index::Index;
use super::{
    Cx, EvidenceExt, Verdict, custom_ref, error, jstr, list_some, name_of, obj_ref, pod_refs,
    selector, source_error,
};
use crate::snapshot::Source;
use crate::{Evidence, Outcome, Params};

/// The Pods whose labels are matched for a workload: its running Pods (never the finished Pods
/// of a batch workload's earlier runs). Empty when there are none; callers then use the
/// template labels.
fn matched_pods<'a>(cx: &Cx<'_, 'a>) -> Vec<&'a Pod> {
    cx.live_pods()
}

/// The label sets to match for a workload: its running Pods'. Empty when there are none;
/// callers then use the template labels.
fn label_sets<'a>(cx: &Cx<'_, 'a>) -> Vec<Option<&'a selector::Labels>> {
    matched_pods(cx)
        .iter()
        .map(|p| p.metadata.labels.as_ref())
        .collect()
}

/// Services of the workload's namespace that select its Pods (or template labels).
fn services_of<'a>(cx: &Cx<'_, 'a>) -> Vec<&'a Service> {
    let sets = label_sets(cx);
    let template = cx.w.template_labels();
    Index::in_ns(&cx.idx.services, cx.w.namespace)
        .iter()
        .copied()
        .filter(|s| {
            let sel = s.spec.as_ref().and_then(|s| s.selector.as_ref());
            if sets.is_empty() {
                selector::map_matches(sel, template)
            } else {
                sets.iter().any(|l| selector::map_matches(sel, *l))
            }
        })
        .collect()
}

fn is_not_installed<T>(s: &Source<T>) -> bool {
    matches!(s, Source::NotInstalled)
}

pub fn metrics_alerts(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    let snap = cx.idx.snap;
    for (src, what) in [
        (
            &snap.service_monitors,
            "servicemonitors.monitoring.coreos.com",
        ),
        (&snap.pod_monitors, "podmonitors.monitoring.coreos.com"),
        (
            &snap.prometheus_rules,
            "prometheusrules.monitoring.coreos.com",
        ),
    ] {
        if let Some(e) = source_error(src, what) {
            return error(format!(
                "{e}; cannot tell whether {} is monitored",
                w.display()
            ));
        }
    }
    if is_not_installed(&snap.service_monitors)
        && is_not_installed(&snap.pod_monitors)
        && is_not_installed(&snap.prometheus_rules)
    {
        return Verdict::na("Prometheus Operator CRDs not installed");
    }
    if w.kind.is_batch() {
        return Verdict::na(format!(
            "{} runs to completion; scraping short-lived Pods is unreliable (push metrics instead)",
            w.display()
        ));
    }
    if let Some(e) = source_error(&snap.services, "services") {
        return error(format!(
            "{e}; cannot match ServiceMonitors to {}",
            w.display()
        ));
    }
    let mut ev = Evidence::default();
    pod_refs(&mut ev, &matched_pods(cx));
    let mut scraped_by = Vec::new();
    let services = services_of(cx);
    for m in cx.idx.service_monitors.watching(w.namespace) {
        let Some(sel) = &m.selector else { continue };
        for svc in &services {
            if selector::matches(sel, svc.metadata.labels.as_ref()) {
                scraped_by.push(format!(
                    "ServiceMonitor {}/{} (Service {})",
                    m.namespace,
                    m.name,
                    name_of(&svc.metadata)
                ));
                ev.obj(custom_ref("ServiceMonitor", m.object));
                ev.obj(obj_ref("Service", &svc.metadata));
            }
        }
    }
    let sets = label_sets(cx);
    let template = w.template_labels();
    for m in cx.idx.pod_monitors.watching(w.namespace) {
        let Some(sel) = &m.selector else { continue };
        let hit = if sets.is_empty() {
            selector::matches(sel, template)
        } else {
            sets.iter().any(|l| selector::matches(sel, *l))
        };
        if hit {
            scraped_by.push(format!("PodMonitor {}/{}", m.namespace, m.name));
            ev.obj(custom_ref("PodMonitor", m.object));
        }
    }
    let mut alerts = Vec::new();
    for r in Index::in_ns(&cx.idx.prometheus_rules, w.namespace) {
        let names: Vec<&str> = r
            .pointer("/spec/groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|g| {
                g.get("rules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .filter_map(|rule| rule.get("alert").and_then(Value::as_str))
            .filter(|a| !a.is_empty())
            .collect();
        if !names.is_empty() {
            ev.obj(custom_ref("PrometheusRule", r));
            alerts.extend(names.into_iter().map(str::to_string));
        }
    }
    ev.val("scraped_by", json!(scraped_by));
    ev.val("alerts", json!(alerts));
    let mut missing = Vec::new();
    if scraped_by.is_empty() {
        missing.push(format!(
            "no ServiceMonitor selects a Service of its Pods ({} Service(s) select them) and no PodMonitor selects the Pods; add a ServiceMonitor whose spec.selector matches the Service's labels",
            services.len()
        ));
    }
    if alerts.is_empty() {
        missing.push(format!(
            "no PrometheusRule in namespace {} defines an alert; add one with spec.groups[].rules[].alert",
            w.namespace
        ));
    }
    if !missing.is_empty() {
        return Verdict::new(
            Outcome::Fail,
            format!("{}: {}", w.display(), missing.join("; ")),
            ev,
        );
    }
    Verdict::new(
        Outcome::Pass,
        format!(
            "{} is scraped by {} and namespace {} has {} alert rule(s)",
            w.display(),
            list_some(&scraped_by, 2),
            w.namespace,
            alerts.len()
        ),
        ev,
    )
}

fn time_at(v: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    jstr(v, pointer)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A Velero Schedule's or Backup's namespace coverage.
struct Coverage<'a> {
    included: Vec<&'a str>,
    excluded: Vec<&'a str>,
}

impl<'a> Coverage<'a> {
    fn of(v: &'a Value, spec: &str) -> Coverage<'a> {
        let list = |k: &str| -> Vec<&'a str> {
            v.pointer(&format!("{spec}/{k}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect()
        };
        Coverage {
            included: list("includedNamespaces"),
            excluded: list("excludedNamespaces"),
        }
    }

    /// Velero backs up every namespace when includedNamespaces is empty or `*`.
    fn covers(&self, ns: &str) -> bool {
        (self.included.is_empty() || self.included.iter().any(|i| *i == "*" || *i == ns))
            && !self.excluded.iter().any(|e| *e == ns || *e == "*")
    }
}

struct BackupInfo<'a> {
    object: &'a Value,
    coverage: Coverage<'a>,
    phase: &'a str,
    completed: Option<DateTime<Utc>>,
    /// When it started (or was created), to order backups that have not completed.
    started: Option<DateTime<Utc>>,
}

/// The backups check for each namespace (the subject is the Namespace).
pub fn backups<'n>(
    idx: &Index<'_>,
    namespaces: &[&'n str],
    params: &Params,
    now: DateTime<Utc>,
) -> Vec<(&'n str, Verdict)> {
    let snap = idx.snap;
    for (src, what) in [
        (&snap.velero_schedules, "schedules.velero.io"),
        (&snap.velero_backups, "backups.velero.io"),
    ] {
        if let Some(e) = source_error(src, what) {
            return namespaces
                .iter()
                .map(|ns| {
                    (
                        *ns,
                        error(format!("{e}; cannot tell whether {ns} is backed up")),
                    )
                })
                .collect();
        }
    }
    if is_not_installed(&snap.velero_schedules) && is_not_installed(&snap.velero_backups) {
        return namespaces
            .iter()
            .map(|ns| (*ns, Verdict::na("Velero CRDs not installed")))
            .collect();
    }
    let rpo_hours = i64::from(params.rpo_hours.unwrap_or(Params::DEFAULT_RPO_HOURS));
    let schedules: Vec<(&Value, Coverage<'_>)> = snap
        .velero_schedules
        .items_or_empty()
        .iter()
        .map(|s| (s, Coverage::of(s, "/spec/template")))
        .collect();
    let backups: Vec<BackupInfo<'_>> = snap
        .velero_backups
        .items_or_empty()
        .iter()
        .map(|b| BackupInfo {
            object: b,
            coverage: Coverage::of(b, "/spec"),
            phase: jstr(b, "/status/phase").unwrap_or("New"),
            completed: time_at(b, "/status/completionTimestamp"),
            started: time_at(b, "/status/startTimestamp")
                .or_else(|| time_at(b, "/metadata/creationTimestamp")),
        })
        .collect();
    namespaces
        .iter()
        .map(|ns| {
            let ns = *ns;
            let mut ev = Evidence::default();
            ev.val("rpo_hours", rpo_hours);
            let covering: Vec<&Value> = schedules.iter().filter(|(_, c)| c.covers(ns)).map(|(s, _)| *s).collect();
            let active: Vec<&Value> = covering
                .iter()
                .copied()
                .filter(|s| s.pointer("/spec/paused").and_then(Value::as_bool) != Some(true))
                .collect();
            for s in &covering {
                ev.obj(custom_ref("Schedule", s));
            }
            ev.val(
                "schedules",
                json!(covering.iter().map(|s| json!({
                    "name": jstr(s, "/metadata/name"),
                    "spec.schedule": jstr(s, "/spec/schedule"),
                    "spec.paused": s.pointer("/spec/paused"),
                })).collect::<Vec<_>>()),
            );
            let mine: Vec<&BackupInfo<'_>> = backups.iter().filter(|b| b.coverage.covers(ns)).collect();
            let last_completed = mine.iter().filter(|b| b.phase == "Completed").max_by_key(|b| b.completed.or(b.started));
            let newest = mine.iter().max_by_key(|b| b.started.or(b.completed));
            if let Some(b) = last_completed {
                ev.obj(custom_ref("Backup", b.object));
                ev.val("last_completed.name", jstr(b.object, "/metadata/name").unwrap_or(""));
                ev.val("last_completed.status.completionTimestamp", b.completed.map(|t| t.to_rfc3339()));
            }
            if let Some(b) = newest {
                ev.obj(custom_ref("Backup", b.object));
                ev.val("newest.name", jstr(b.object, "/metadata/name").unwrap_or(""));
                ev.val("newest.status.phase", b.phase);
            }
            if active.is_empty() {
                let why = if covering.is_empty() { "no Velero Schedule includes it" } else { "the Velero Schedules that include it are paused" };
                return (
                    ns,
                    Verdict::new(
                        Outcome::Fail,
                        format!(
                            "namespace {ns} is not backed up on a schedule: {why}; add it to a Schedule's spec.template.includedNamespaces"
                        ),
                        ev,
                    ),
                );
            }
            let Some(done) = last_completed else {
                let newest_phase = newest.map_or("none".to_string(), |b| b.phase.to_string());
                return (
                    ns,
                    Verdict::new(
                        Outcome::Fail,
                        format!(
                            "namespace {ns} has no Completed Velero backup (newest backup phase: {newest_phase}); read the Backup's status and the Velero logs"
                        ),
                        ev,
                    ),
                );
            };
            let Some(at) = done.completed else {
                return (ns, Verdict::new(Outcome::Fail, format!("the last Completed backup of namespace {ns} has no status.completionTimestamp"), ev));
            };
            let age = now - at;
            ev.val("last_completed.age_hours", age.num_hours());
            if age > Duration::hours(rpo_hours) {
                return (
                    ns,
                    Verdict::new(
                        Outcome::Fail,
                        format!(
                            "the last Completed backup of namespace {ns} ({}) finished {} h ago, beyond the RPO of {rpo_hours} h; check that the Schedule runs and its backups succeed",
                            jstr(done.object, "/metadata/name").unwrap_or(""),
                            age.num_hours()
                        ),
                        ev,
                    ),
                );
            }
            if let Some(n) = newest.filter(|n| matches!(n.phase, "Failed" | "PartiallyFailed" | "FailedValidation")) {
                return (
                    ns,
                    Verdict::new(
                        Outcome::Warn,
                        format!(
                            "namespace {ns} was backed up {} h ago (within the RPO of {rpo_hours} h), but the newest backup {} ended {}",
                            age.num_hours(),
                            jstr(n.object, "/metadata/name").unwrap_or(""),
                            n.phase
                        ),
                        ev,
                    ),
                );
            }
            (
                ns,
                Verdict::new(
                    Outcome::Pass,
                    format!("namespace {ns} was backed up {} h ago (RPO {rpo_hours} h)", age.num_hours()),
                    ev,
                ),
            )
        })
        .collect()
}

fn backend_service(b: &IngressBackend) -> Option<&str> {
    b.service.as_ref().map(|s| s.name.as_str())
}

fn ingress_services(i: &Ingress) -> BTreeSet<&str> {
    let spec = i.spec.as_ref();
    let mut set: BTreeSet<&str> = spec
        .and_then(|s| s.default_backend.as_ref())
        .and_then(backend_service)
        .into_iter()
        .collect();
    for r in spec.and_then(|s| s.rules.as_ref()).into_iter().flatten() {
        for p in r.http.iter().flat_map(|h| h.paths.iter()) {
            if let Some(s) = backend_service(&p.backend) {
                set.insert(s);
            }
        }
    }
    set
}

/// Whether a TLS host entry covers `host` (`*.example.com` covers `a.example.com`).
fn host_covered(tls_host: &str, host: &str) -> bool {
    let (t, h) = (tls_host.to_lowercase(), host.to_lowercase());
    if t == h {
        return true;
    }
    match (t.strip_prefix("*."), h.split_once('.')) {
        (Some(suffix), Some((_, rest))) => suffix == rest,
        _ => false,
    }
}

pub fn tls(cx: &Cx<'_, '_>, params: &Params, now: DateTime<Utc>) -> Verdict {
    let w = cx.w;
    let snap = cx.idx.snap;
    if let Some(e) = source_error(&snap.ingresses, "ingresses") {
        return error(format!("{e}; cannot tell how {} is exposed", w.display()));
    }
    if Index::in_ns(&cx.idx.ingresses, w.namespace).is_empty() {
        return Verdict::na(format!("no Ingress in namespace {}", w.namespace));
    }
    if let Some(e) = source_error(&snap.services, "services") {
        return error(format!(
            "{e}; cannot tell which Ingresses route to {}",
            w.display()
        ));
    }
    let services: BTreeSet<&str> = services_of(cx)
        .into_iter()
        .map(|s| name_of(&s.metadata))
        .collect();
    let ingresses: Vec<&Ingress> = Index::in_ns(&cx.idx.ingresses, w.namespace)
        .iter()
        .copied()
        .filter(|i| ingress_services(i).iter().any(|s| services.contains(s)))
        .collect();
    if ingresses.is_empty() {
        return Verdict::na(format!("no Ingress routes to a Service of {}", w.display()));
    }
    let min_days = i64::from(
        params
            .min_certificate_days
            .unwrap_or(Params::DEFAULT_MIN_CERTIFICATE_DAYS),
    );
    let mut ev = Evidence::default();
    ev.val("min_certificate_days", min_days);
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    let mut notes = Vec::new();
    let mut secrets: BTreeSet<&str> = BTreeSet::new();
    for i in &ingresses {
        ev.obj(obj_ref("Ingress", &i.metadata));
        let name = name_of(&i.metadata);
        let spec = i.spec.as_ref();
        let hosts: Vec<&str> = spec
            .and_then(|s| s.rules.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|r| r.host.as_deref())
            .filter(|h| !h.is_empty())
            .collect();
        let tls = spec.and_then(|s| s.tls.as_deref()).unwrap_or(&[]);
        let tls_hosts: Vec<&str> = tls
            .iter()
            .flat_map(|t| t.hosts.iter().flatten())
            .map(String::as_str)
            .collect();
        ev.val(format!("ingress[{name}].hosts"), json!(hosts));
        ev.val(format!("ingress[{name}].tls.hosts"), json!(tls_hosts));
        if tls.is_empty() {
            fails.push(format!(
                "Ingress {name} has no spec.tls, so {} is served over plain HTTP; add spec.tls with the hosts and a secretName",
                if hosts.is_empty() { "it".to_string() } else { hosts.join(", ") }
            ));
            continue;
        }
        let uncovered: Vec<&str> = hosts
            .iter()
            .copied()
            .filter(|h| !tls_hosts.iter().any(|t| host_covered(t, h)))
            .collect();
        if !uncovered.is_empty() {
            fails.push(format!(
                "Ingress {name}: host(s) {} are not in spec.tls[].hosts",
                uncovered.join(", ")
            ));
        }
        secrets.extend(tls.iter().filter_map(|t| t.secret_name.as_deref()));
    }
    match &snap.certificates {
        Source::Forbidden(_) | Source::Failed(_) => {
            let e = source_error(&snap.certificates, "certificates.cert-manager.io")
                .unwrap_or_default();
            return error(format!(
                "{e}; cannot check the expiry of {}'s certificates",
                w.display()
            ));
        }
        Source::NotInstalled => notes.push(
            "cert-manager is not installed, so certificate expiry was not checked".to_string(),
        ),
        Source::Read(_) => {
            for secret in &secrets {
                let Some(cert) = cx.idx.certificate_for_secret(w.namespace, secret) else {
                    notes.push(format!("secret {secret} is not written by a cert-manager Certificate; its expiry was not checked"));
                    continue;
                };
                ev.obj(custom_ref("Certificate", cert));
                let cname = jstr(cert, "/metadata/name").unwrap_or("");
                let ready = cert
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"));
                let ready_status = ready.and_then(|c| c.get("status")).and_then(Value::as_str);
                ev.val(format!("certificate[{cname}].Ready"), ready_status);
                if ready_status != Some("True") {
                    let why = ready
                        .and_then(|c| c.get("message"))
                        .and_then(Value::as_str)
                        .unwrap_or("no Ready condition");
                    fails.push(format!(
                        "Certificate {cname} (secret {secret}) is not Ready: {why}"
                    ));
                }
                match time_at(cert, "/status/notAfter") {
                    Some(not_after) => {
                        let left = not_after - now;
                        ev.val(
                            format!("certificate[{cname}].status.notAfter"),
                            not_after.to_rfc3339(),
                        );
                        ev.val(format!("certificate[{cname}].days_left"), left.num_days());
                        if left < Duration::days(min_days) {
                            fails.push(format!(
                                "Certificate {cname} expires in {} day(s) (status.notAfter {}), less than {min_days}; check why cert-manager has not renewed it",
                                left.num_days(),
                                not_after.to_rfc3339()
                            ));
                        } else if left < Duration::days(2 * min_days) {
                            warns.push(format!(
                                "Certificate {cname} expires in {} days",
                                left.num_days()
                            ));
                        }
                    }
                    None => warns.push(format!("Certificate {cname} has no status.notAfter")),
                }
            }
        }
    }
    let tail = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    if !fails.is_empty() {
        fails.extend(warns);
        return Verdict::new(
            Outcome::Fail,
            format!("{}: {}{tail}", w.display(), fails.join("; ")),
            ev,
        );
    }
    if !warns.is_empty() {
        return Verdict::new(
            Outcome::Warn,
            format!("{}: {}{tail}", w.display(), warns.join("; ")),
            ev,
        );
    }
    Verdict::new(
        Outcome::Pass,
        format!(
            "every host of the Ingress(es) routing to {} has TLS{tail}",
            w.display()
        ),
        ev,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::*;
    use super::*;
    use crate::CheckId;
    use crate::snapshot::Snapshot;

    fn monitored_shop() -> Snapshot {
        let mut s = healthy_shop();
        s.services.push(obj(json!({
            "metadata": {"name": "cart", "namespace": "shop", "labels": {"app": "cart"}},
            "spec": {"selector": {"app": "cart"}, "ports": [{"port": 80}]}
        })));
        s.service_monitors.push(json!({
            "metadata": {"name": "shop-apps", "namespace": "monitoring"},
            "spec": {"selector": {"matchLabels": {"app": "cart"}}, "namespaceSelector": {"matchNames": ["shop"]},
                     "endpoints": [{"port": "http"}]}
        }));
        s.prometheus_rules.push(json!({
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"groups": [{"name": "cart", "rules": [
                {"record": "cart:errors:rate5m", "expr": "x"},
                {"alert": "CartErrors", "expr": "cart:errors:rate5m > 0.05"}
            ]}]}
        }));
        s
    }

    #[test]
    fn missing_prometheus_operator_is_not_applicable() {
        let mut s = healthy_shop();
        s.service_monitors = Source::NotInstalled;
        s.pod_monitors = Source::NotInstalled;
        s.prometheus_rules = Source::NotInstalled;
        let r = result_for(&s, CheckId::MetricsAlerts, "cart");
        assert_eq!(r.outcome, Outcome::NotApplicable);
        assert_eq!(r.message, "Prometheus Operator CRDs not installed");
    }

    #[test]
    fn a_service_monitor_and_an_alert_rule_pass_metrics_alerts() {
        let s = monitored_shop();
        let r = result_for(&s, CheckId::MetricsAlerts, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert_eq!(r.evidence.values["alerts"], json!(["CartErrors"]));

        let mut s = monitored_shop();
        s.prometheus_rules = Source::Read(vec![]);
        assert_eq!(
            result_for(&s, CheckId::MetricsAlerts, "cart").outcome,
            Outcome::Fail
        );

        let mut s = monitored_shop();
        s.service_monitors = Source::Forbidden("list servicemonitors".into());
        assert_eq!(
            result_for(&s, CheckId::MetricsAlerts, "cart").outcome,
            Outcome::Error
        );
    }

    #[test]
    fn a_pod_monitor_watching_any_namespace_counts() {
        let mut s = monitored_shop();
        s.service_monitors = Source::Read(vec![]);
        assert_eq!(
            result_for(&s, CheckId::MetricsAlerts, "cart").outcome,
            Outcome::Fail
        );
        s.pod_monitors.push(json!({
            "metadata": {"name": "all", "namespace": "monitoring"},
            "spec": {"selector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]},
                     "namespaceSelector": {"any": true}}
        }));
        assert_eq!(
            result_for(&s, CheckId::MetricsAlerts, "cart").outcome,
            Outcome::Pass
        );
    }

    #[test]
    fn a_monitor_in_another_namespace_counts_only_for_the_namespaces_it_watches() {
        let elsewhere = |selector: Value| {
            let mut s = monitored_shop();
            let mut m = json!({
                "metadata": {"name": "apps", "namespace": "monitoring", "resourceVersion": "7"},
                "spec": {"selector": {"matchLabels": {"app": "cart"}}, "endpoints": [{"port": "http"}]}
            });
            if !selector.is_null() {
                m["spec"]["namespaceSelector"] = selector;
            }
            s.service_monitors = Source::Read(vec![m]);
            s
        };
        let r = result_for(
            &elsewhere(json!({"matchNames": ["payments", "shop"]})),
            CheckId::MetricsAlerts,
            "cart",
        );
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(
            r.message
                .contains("ServiceMonitor monitoring/apps (Service cart)"),
            "{}",
            r.message
        );
        assert!(r.evidence.objects.iter().any(|o| o.kind == "ServiceMonitor"
            && o.namespace.as_deref() == Some("monitoring")
            && o.resource_version.as_deref() == Some("7")));
        // The Pods whose labels were matched are evidence too.
        assert!(
            r.evidence
                .objects
                .iter()
                .any(|o| o.kind == "Pod" && o.name == "cart-a")
        );
        for selector in [json!({"matchNames": ["payments"]}), Value::Null] {
            let r = result_for(&elsewhere(selector.clone()), CheckId::MetricsAlerts, "cart");
            assert_eq!(r.outcome, Outcome::Fail, "{selector}: {}", r.message);
        }
    }

    fn backup(name: &str, phase: &str, completed: &str, included: serde_json::Value) -> Value {
        json!({
            "metadata": {"name": name, "namespace": "velero"},
            "spec": {"includedNamespaces": included},
            "status": {"phase": phase, "startTimestamp": completed, "completionTimestamp": completed}
        })
    }

    fn backed_up_shop() -> Snapshot {
        let mut s = healthy_shop();
        s.velero_schedules.push(json!({
            "metadata": {"name": "daily", "namespace": "velero"},
            "spec": {"schedule": "0 3 * * *", "template": {"includedNamespaces": ["*"], "excludedNamespaces": ["kube-system"]}}
        }));
        s.velero_backups.push(backup(
            "daily-1",
            "Completed",
            "2025-06-01T03:10:00Z",
            json!(["*"]),
        ));
        s
    }

    #[test]
    fn a_scheduled_recent_backup_passes_and_an_old_one_fails() {
        let r = result_for(&backed_up_shop(), CheckId::Backups, "shop");
        assert_eq!(r.subject.kind, "Namespace");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);

        let mut s = backed_up_shop();
        s.velero_backups = Source::Read(vec![backup(
            "old",
            "Completed",
            "2025-05-29T03:10:00Z",
            json!(["shop"]),
        )]);
        let r = result_for(&s, CheckId::Backups, "shop");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.contains("beyond the RPO of 24 h"),
            "{}",
            r.message
        );
        assert_eq!(
            result_with(
                &s,
                CheckId::Backups,
                "shop",
                Params {
                    rpo_hours: Some(96),
                    ..Params::default()
                }
            )
            .outcome,
            Outcome::Pass
        );

        s.velero_backups.push(backup(
            "newer",
            "PartiallyFailed",
            "2025-06-01T03:10:00Z",
            json!(["shop"]),
        ));
        s.velero_backups.push(backup(
            "ok",
            "Completed",
            "2025-06-01T01:10:00Z",
            json!(["shop"]),
        ));
        assert_eq!(
            result_for(&s, CheckId::Backups, "shop").outcome,
            Outcome::Warn
        );
    }

    #[test]
    fn an_excluded_namespace_is_not_covered_and_missing_velero_is_not_applicable() {
        let mut s = backed_up_shop();
        s.velero_schedules = Source::Read(vec![json!({
            "metadata": {"name": "daily", "namespace": "velero"},
            "spec": {"template": {"excludedNamespaces": ["shop"]}}
        })]);
        assert_eq!(
            result_for(&s, CheckId::Backups, "shop").outcome,
            Outcome::Fail
        );
        s.velero_schedules = Source::NotInstalled;
        s.velero_backups = Source::NotInstalled;
        let r = result_for(&s, CheckId::Backups, "shop");
        assert_eq!(r.outcome, Outcome::NotApplicable);
    }

    fn exposed_shop(tls: bool) -> Snapshot {
        let mut s = monitored_shop();
        let mut spec = json!({"rules": [{"host": "shop.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "cart", "port": {"number": 80}}}}
        ]}}]});
        if tls {
            spec["tls"] = json!([{"hosts": ["*.example.com"], "secretName": "shop-tls"}]);
        }
        s.ingresses.push(obj(
            json!({"metadata": {"name": "shop", "namespace": "shop"}, "spec": spec}),
        ));
        s
    }

    fn certificate(not_after: &str, ready: &str) -> Value {
        json!({
            "metadata": {"name": "shop", "namespace": "shop"},
            "spec": {"secretName": "shop-tls", "dnsNames": ["*.example.com"]},
            "status": {"notAfter": not_after, "conditions": [{"type": "Ready", "status": ready, "message": "issuer down"}]}
        })
    }

    #[test]
    fn tls_is_not_applicable_without_ingress_and_fails_on_plain_http() {
        assert_eq!(
            result_for(&monitored_shop(), CheckId::Tls, "cart").outcome,
            Outcome::NotApplicable
        );
        let r = result_for(&exposed_shop(false), CheckId::Tls, "cart");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message
                .contains("shop.example.com is served over plain HTTP"),
            "{}",
            r.message
        );
    }

    #[test]
    fn certificates_must_be_ready_and_far_from_expiry() {
        let mut s = exposed_shop(true);
        s.certificates
            .push(certificate("2025-08-30T00:00:00Z", "True"));
        assert_eq!(result_for(&s, CheckId::Tls, "cart").outcome, Outcome::Pass);

        s.certificates = Source::Read(vec![certificate("2025-06-20T00:00:00Z", "True")]);
        assert_eq!(result_for(&s, CheckId::Tls, "cart").outcome, Outcome::Warn);

        s.certificates = Source::Read(vec![certificate("2025-06-05T00:00:00Z", "False")]);
        let r = result_for(&s, CheckId::Tls, "cart");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.contains("is not Ready: issuer down"),
            "{}",
            r.message
        );
        assert!(r.message.contains("expires in 3 day(s)"), "{}", r.message);

        s.certificates = Source::NotInstalled;
        let r = result_for(&s, CheckId::Tls, "cart");
        assert_eq!(r.outcome, Outcome::Pass);
        assert!(r.message.contains("cert-manager is not installed"));
    }
}
