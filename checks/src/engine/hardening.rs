//! Checks of what runs and with which rights: resources, security context, network policy,
//! images, QoS and priority, service account tokens.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde_json::{Value, json};

use super::index::Index;
use super::quantity::{cpu_millis, whole};
use super::{
    Cx, EvidenceExt, JudgedFrom, Verdict, all_containers, error, judge_specs, list_some, name_of,
    obj_ref, selector, source_error,
};
use crate::{Evidence, Outcome, Params};

fn has(c: &Container, section: &str, resource: &str) -> bool {
    let r = c.resources.as_ref();
    let get = |s: &str| match s {
        "requests" => r
            .and_then(|r| r.requests.as_ref())
            .is_some_and(|m| m.contains_key(resource)),
        _ => r
            .and_then(|r| r.limits.as_ref())
            .is_some_and(|m| m.contains_key(resource)),
    };
    // A request left out defaults to the limit.
    get(section) || (section == "requests" && get("limits"))
}

pub fn resources(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    let mut ev = Evidence::default();
    // LimitRange defaults for containers: (section, resource) => LimitRange name.
    let mut defaults: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for lr in Index::in_ns(&cx.idx.limit_ranges, w.namespace) {
        let Some(spec) = &lr.spec else { continue };
        for item in spec.limits.iter().filter(|i| i.type_ == "Container") {
            let name = name_of(&lr.metadata);
            for (res, _) in item.default_request.iter().flatten() {
                defaults.entry(("requests", res.as_str())).or_insert(name);
            }
            for (res, _) in item.default.iter().flatten() {
                defaults.entry(("limits", res.as_str())).or_insert(name);
                // The default limit also becomes the request when no default request is given.
                defaults.entry(("requests", res.as_str())).or_insert(name);
            }
            ev.obj(obj_ref("LimitRange", &lr.metadata));
        }
    }
    let from_limit_range: RefCell<BTreeSet<String>> = RefCell::new(BTreeSet::new());
    let needed = [
        ("requests", "cpu"),
        ("requests", "memory"),
        ("limits", "memory"),
    ];
    let judged = judge_specs(cx, &mut ev, |spec: &PodSpec| {
        let mut problems = Vec::new();
        for (field, c) in all_containers(spec) {
            for (section, res) in needed {
                if has(c, section, res) {
                    continue;
                }
                if let Some(lr) = defaults.get(&(section, res)) {
                    from_limit_range.borrow_mut().insert(format!(
                        "{field}[{}] {section}.{res} (LimitRange {lr})",
                        c.name
                    ));
                    continue;
                }
                problems.push(format!("{field}[{}].resources.{section}.{res}", c.name));
            }
        }
        problems
    });
    let from_lr = from_limit_range.into_inner();
    if !from_lr.is_empty() {
        ev.val("from_limit_range", json!(from_lr));
    }
    if judged.problems.is_empty() {
        let lr_note = if from_lr.is_empty() {
            String::new()
        } else {
            format!(
                "; a LimitRange default supplies {}",
                list_some(&from_lr.into_iter().collect::<Vec<_>>(), 3)
            )
        };
        return Verdict::new(
            Outcome::Pass,
            format!(
                "every container of {} requests CPU and memory and has a memory limit ({}){lr_note}",
                w.display(),
                judged.scope
            ),
            ev,
        );
    }
    ev.val("missing", json!(judged.problems));
    if judged.from != JudgedFrom::Pods
        && let Some(e) = source_error(&cx.idx.snap.limit_ranges, "limitranges")
    {
        return error(format!(
            "{e}; {} lacks {}, which a LimitRange default might supply",
            w.display(),
            list_some(&judged.problems, 4)
        ));
    }
    Verdict::new(
        Outcome::Fail,
        format!(
            "{} is missing {} {}; set them from a load test's measured usage",
            w.display(),
            list_some(&judged.problems, 6),
            judged.scope
        ),
        ev,
    )
}

fn restricted_violations(spec: &PodSpec) -> Vec<String> {
    let mut v = Vec::new();
    for (flag, name) in [
        (spec.host_network, "hostNetwork"),
        (spec.host_pid, "hostPID"),
        (spec.host_ipc, "hostIPC"),
    ] {
        if flag == Some(true) {
            v.push(format!("spec.{name} is true"));
        }
    }
    for vol in spec.volumes.iter().flatten() {
        if vol.host_path.is_some() {
            v.push(format!("spec.volumes[{}] is a hostPath volume", vol.name));
        }
    }
    let psc = spec.security_context.as_ref();
    for (field, c) in all_containers(spec) {
        let sc = c.security_context.as_ref();
        let path = format!("{field}[{}].securityContext", c.name);
        let user = sc
            .and_then(|s| s.run_as_user)
            .or(psc.and_then(|p| p.run_as_user));
        let non_root = sc
            .and_then(|s| s.run_as_non_root)
            .or(psc.and_then(|p| p.run_as_non_root));
        if user == Some(0) {
            v.push(format!("{path}.runAsUser is 0 (root)"));
        } else if non_root == Some(false) {
            // An explicit false is refused by the restricted profile, whatever the UID.
            v.push(format!("{path}.runAsNonRoot is false"));
        } else if non_root != Some(true) && user.is_none() {
            v.push(format!("{path}.runAsNonRoot is not true and no non-zero runAsUser is set (pod or container)"));
        }
        if sc.and_then(|s| s.allow_privilege_escalation) != Some(false) {
            v.push(format!("{path}.allowPrivilegeEscalation is not false"));
        }
        if sc.and_then(|s| s.privileged) == Some(true) {
            v.push(format!("{path}.privileged is true"));
        }
        let caps = sc.and_then(|s| s.capabilities.as_ref());
        if !caps
            .and_then(|c| c.drop.as_ref())
            .is_some_and(|d| d.iter().any(|d| d == "ALL"))
        {
            v.push(format!("{path}.capabilities.drop does not contain ALL"));
        }
        let added: Vec<&str> = caps
            .and_then(|c| c.add.as_ref())
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|a| !matches!(*a, "NET_BIND_SERVICE" | "CAP_NET_BIND_SERVICE"))
            .collect();
        if !added.is_empty() {
            v.push(format!("{path}.capabilities.add has {}", added.join(", ")));
        }
        let seccomp = sc
            .and_then(|s| s.seccomp_profile.as_ref())
            .or(psc.and_then(|p| p.seccomp_profile.as_ref()))
            .map(|p| p.type_.as_str());
        match seccomp {
            Some("RuntimeDefault" | "Localhost") => {}
            Some(other) => v.push(format!("{path}.seccompProfile.type is {other}")),
            None => v.push(format!(
                "{path}.seccompProfile is not set (neither on the container nor in spec.securityContext)"
            )),
        }
    }
    v
}

pub fn non_root(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    let mut ev = Evidence::default();
    let judged = judge_specs(cx, &mut ev, restricted_violations);
    if judged.problems.is_empty() {
        return Verdict::new(
            Outcome::Pass,
            format!(
                "{} meets the restricted Pod Security profile ({})",
                w.display(),
                judged.scope
            ),
            ev,
        );
    }
    ev.val("violations", json!(judged.problems));
    Verdict::new(
        Outcome::Fail,
        format!(
            "{} does not meet the restricted Pod Security profile {}: {}",
            w.display(),
            judged.scope,
            judged.problems.join("; ")
        ),
        ev,
    )
}

fn covers_ingress(np: &NetworkPolicy) -> bool {
    match np.spec.as_ref().and_then(|s| s.policy_types.as_ref()) {
        Some(types) if !types.is_empty() => types.iter().any(|t| t == "Ingress"),
        // Without policyTypes, every policy applies to ingress.
        _ => true,
    }
}

fn np_selects(np: &NetworkPolicy, labels: Option<&selector::Labels>) -> bool {
    match np.spec.as_ref().and_then(|s| s.pod_selector.as_ref()) {
        Some(sel) => selector::matches(sel, labels),
        // A missing podSelector behaves like `{}`: every Pod of the namespace.
        None => np.spec.is_some(),
    }
}

pub fn network_policy(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    if let Some(e) = source_error(&cx.idx.snap.network_policies, "networkpolicies") {
        return error(format!(
            "{e}; cannot tell whether {} is isolated",
            w.display()
        ));
    }
    let mut ev = Evidence::default();
    let pods = if w.kind.is_batch() {
        cx.pods.to_vec()
    } else {
        cx.live_pods()
    };
    let subjects: Vec<(String, Option<&selector::Labels>)> = if pods.is_empty() {
        vec![(
            format!(
                "the pod template (labels {})",
                selector::describe_labels(w.template_labels())
            ),
            w.template_labels(),
        )]
    } else {
        pods.iter()
            .map(|p| {
                (
                    format!("Pod {}", name_of(&p.metadata)),
                    p.metadata.labels.as_ref(),
                )
            })
            .collect()
    };
    let policies: Vec<&NetworkPolicy> = Index::in_ns(&cx.idx.network_policies, w.namespace)
        .iter()
        .copied()
        .filter(|np| covers_ingress(np))
        .collect();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let mut uncovered = Vec::new();
    for (who, labels) in &subjects {
        let selecting: Vec<&NetworkPolicy> = policies
            .iter()
            .copied()
            .filter(|np| np_selects(np, *labels))
            .collect();
        if selecting.is_empty() {
            uncovered.push(who.clone());
        }
        for np in selecting {
            if used.insert(name_of(&np.metadata)) {
                ev.obj(obj_ref("NetworkPolicy", &np.metadata));
            }
        }
    }
    ev.val("selected_by", json!(used));
    ev.val("ingress_policies_in_namespace", policies.len());
    if !uncovered.is_empty() {
        ev.val("not_selected", json!(uncovered));
        return Verdict::new(
            Outcome::Fail,
            format!(
                "{} of {}: {} not selected by any NetworkPolicy covering Ingress in namespace {}; add one whose spec.podSelector matches {} (or {{}} for the whole namespace) with policyTypes: [Ingress]",
                list_some(&uncovered, 3),
                w.display(),
                if uncovered.len() == 1 { "is" } else { "are" },
                w.namespace,
                selector::describe_labels(w.template_labels())
            ),
            ev,
        );
    }
    let scope = if pods.is_empty() {
        "the pod template (no running Pods)".to_string()
    } else {
        format!("all {} Pod(s)", pods.len())
    };
    Verdict::new(
        Outcome::Pass,
        format!(
            "{scope} of {} selected for ingress by NetworkPolicy {}",
            w.display(),
            used.into_iter().collect::<Vec<_>>().join(", ")
        ),
        ev,
    )
}

/// A container image reference, split up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host, `docker.io` for Docker Hub.
    pub registry: String,
    /// Repository path, `library/nginx` for short Docker Hub names.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// `registry/repository`, the name allowed registries are compared with.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

/// Parses an image reference as the container runtime does (`nginx:1.25` =>
/// `docker.io/library/nginx` tag `1.25`).
pub fn parse_image(image: &str) -> ImageRef {
    let image = image.trim();
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d.to_string())),
        None => (image, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (path, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (
            &name[..last_slash + i],
            Some(name[last_slash + i + 1..].to_string()),
        ),
        None => (name, None),
    };
    let (registry, repository) = match path.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_lowercase(), rest.to_string())
        }
        Some(_) => ("docker.io".to_string(), path.to_string()),
        None => ("docker.io".to_string(), format!("library/{path}")),
    };
    let registry = if matches!(
        registry.as_str(),
        "index.docker.io" | "registry-1.docker.io"
    ) {
        "docker.io".to_string()
    } else {
        registry
    };
    ImageRef {
        registry,
        repository,
        tag,
        digest,
    }
}

fn registry_allowed(img: &ImageRef, allowed: &[String]) -> bool {
    let full = img.full_name();
    allowed.iter().any(|a| {
        let a = a.trim().trim_end_matches('/').to_lowercase();
        let a = a
            .strip_prefix("index.docker.io")
            .map_or(a.clone(), |rest| format!("docker.io{rest}"));
        !a.is_empty() && (full == a || full.starts_with(&format!("{a}/")))
    })
}

pub fn image(cx: &Cx<'_, '_>, params: &Params) -> Verdict {
    let w = cx.w;
    let mut ev = Evidence::default();
    let images: RefCell<BTreeMap<String, String>> = RefCell::new(BTreeMap::new());
    let judged = judge_specs(cx, &mut ev, |spec: &PodSpec| {
        let mut problems = Vec::new();
        for (field, c) in all_containers(spec) {
            let Some(raw) = c.image.as_deref().filter(|s| !s.trim().is_empty()) else {
                problems.push(format!("{field}[{}] has no image", c.name));
                continue;
            };
            images
                .borrow_mut()
                .insert(format!("{field}[{}]", c.name), raw.to_string());
            let img = parse_image(raw);
            let pinned = img.digest.is_some() || img.tag.as_deref().is_some_and(|t| t != "latest");
            if !pinned {
                let why = if img.tag.is_some() {
                    "uses the tag latest"
                } else {
                    "has no tag"
                };
                problems.push(format!(
                    "{field}[{}] image {raw} {why}; pin a version tag or a digest",
                    c.name
                ));
            }
            if !params.allowed_registries.is_empty()
                && !registry_allowed(&img, &params.allowed_registries)
            {
                problems.push(format!(
                    "{field}[{}] image {raw} ({}) is not from an allowed registry ({})",
                    c.name,
                    img.full_name(),
                    params.allowed_registries.join(", ")
                ));
            }
        }
        problems
    });
    ev.val("images", json!(images.into_inner()));
    let mut image_ids: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for p in cx.pods {
        for s in p
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
        {
            if !s.image_id.is_empty() {
                image_ids
                    .entry(s.name.clone())
                    .or_default()
                    .insert(s.image_id.as_str());
            }
        }
    }
    if !image_ids.is_empty() {
        ev.val("status.containerStatuses.imageID", json!(image_ids));
    }
    if !params.allowed_registries.is_empty() {
        ev.val("allowed_registries", json!(params.allowed_registries));
    }
    if judged.problems.is_empty() {
        return Verdict::new(
            Outcome::Pass,
            format!(
                "every image of {} is pinned{} ({})",
                w.display(),
                if params.allowed_registries.is_empty() {
                    ""
                } else {
                    " and from an allowed registry"
                },
                judged.scope
            ),
            ev,
        );
    }
    Verdict::new(
        Outcome::Fail,
        format!(
            "{} {}: {}",
            w.display(),
            judged.scope,
            judged.problems.join("; ")
        ),
        ev,
    )
}

fn guaranteed_violations(spec: &PodSpec) -> Vec<String> {
    let mut v = Vec::new();
    for (field, c) in all_containers(spec) {
        let r = c.resources.as_ref();
        for res in ["cpu", "memory"] {
            let limit = r.and_then(|r| r.limits.as_ref()).and_then(|m| m.get(res));
            let request = r.and_then(|r| r.requests.as_ref()).and_then(|m| m.get(res));
            let parse = |q| {
                if res == "cpu" {
                    cpu_millis(q)
                } else {
                    whole(q)
                }
            };
            match (request, limit) {
                (_, None) => v.push(format!(
                    "{field}[{}].resources.limits.{res} is not set",
                    c.name
                )),
                (Some(req), Some(lim)) if parse(req) != parse(lim) => v.push(format!(
                    "{field}[{}] requests {res} {} but limits it to {}",
                    c.name, req.0, lim.0
                )),
                _ => {}
            }
        }
    }
    v
}

pub fn qos_priority(cx: &Cx<'_, '_>, params: &Params) -> Verdict {
    let w = cx.w;
    let mut ev = Evidence::default();
    let spec = w.pod_spec();
    let pc = spec.priority_class_name.as_deref();
    ev.val(
        format!("{}.priorityClassName", w.template_path),
        pc.map_or(Value::Null, Value::from),
    );
    let qos: BTreeSet<&str> = cx
        .live_pods()
        .iter()
        .filter_map(|p| p.status.as_ref()?.qos_class.as_deref())
        .collect();
    if !qos.is_empty() {
        ev.val("status.qosClass", json!(qos));
    }
    let mut fails = Vec::new();
    if !params.priority_classes.is_empty() {
        ev.val("priority_classes", json!(params.priority_classes));
        match pc {
            None => fails.push(format!(
                "{}.priorityClassName is not set; use one of {}",
                w.template_path,
                params.priority_classes.join(", ")
            )),
            Some(p) if !params.priority_classes.iter().any(|c| c == p) => fails.push(format!(
                "{}.priorityClassName {p} is not one of {}",
                w.template_path,
                params.priority_classes.join(", ")
            )),
            _ => {}
        }
    }
    let require = params.require_guaranteed.unwrap_or(false);
    ev.val("require_guaranteed", require);
    if require {
        let judged = judge_specs(cx, &mut ev, guaranteed_violations);
        if !judged.problems.is_empty() {
            fails.push(format!(
                "not Guaranteed QoS {}: {}; set limits equal to requests for cpu and memory",
                judged.scope,
                judged.problems.join("; ")
            ));
        }
    }
    if !fails.is_empty() {
        return Verdict::new(
            Outcome::Fail,
            format!("{}: {}", w.display(), fails.join("; ")),
            ev,
        );
    }
    match pc {
        None => Verdict::new(
            Outcome::Warn,
            format!(
                "{} has no {}.priorityClassName, so under node pressure it is preempted like any other Pod; set one if the service is critical",
                w.display(),
                w.template_path
            ),
            ev,
        ),
        Some(p) => Verdict::new(
            Outcome::Pass,
            format!(
                "{} runs with priorityClassName {p}{}",
                w.display(),
                if require { " and Guaranteed QoS" } else { "" }
            ),
            ev,
        ),
    }
}

pub fn service_account(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    let spec = w.pod_spec();
    let account = spec
        .service_account_name
        .as_deref()
        .or(spec.service_account.as_deref())
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    let mut ev = Evidence::default();
    ev.val("serviceAccountName", account);
    ev.val(
        format!("{}.automountServiceAccountToken", w.template_path),
        spec.automount_service_account_token
            .map_or(Value::Null, Value::from),
    );
    let sa = cx.idx.service_account(w.namespace, account);
    if let Some(sa) = sa {
        ev.obj(obj_ref("ServiceAccount", &sa.metadata));
        ev.val(
            "serviceAccount.automountServiceAccountToken",
            sa.automount_service_account_token
                .map_or(Value::Null, Value::from),
        );
    }
    let live = cx.live_pods();
    let (mounted, why) = if !live.is_empty() {
        let with_token: Vec<&str> = live
            .iter()
            .filter(|p| {
                p.spec
                    .iter()
                    .flat_map(|s| s.volumes.iter().flatten())
                    .any(|v| v.name.starts_with("kube-api-access-"))
            })
            .map(|p| name_of(&p.metadata))
            .collect();
        ev.val("pods_with_token_volume", json!(with_token));
        (
            !with_token.is_empty(),
            "the running Pods' kube-api-access volume".to_string(),
        )
    } else {
        match (spec.automount_service_account_token, sa) {
            (Some(b), _) => (
                b,
                format!("{}.automountServiceAccountToken", w.template_path),
            ),
            (None, Some(sa)) => (
                sa.automount_service_account_token.unwrap_or(true),
                format!("ServiceAccount {account}'s automountServiceAccountToken (default true)"),
            ),
            (None, None) => {
                if let Some(e) = source_error(&cx.idx.snap.service_accounts, "serviceaccounts") {
                    return error(format!(
                        "{e}; {} does not set automountServiceAccountToken, so whether a token is mounted depends on ServiceAccount {account}",
                        w.display()
                    ));
                }
                (
                    true,
                    format!(
                        "the Kubernetes default (ServiceAccount {account} not among the objects read)"
                    ),
                )
            }
        }
    };
    ev.val("token_mounted", mounted);
    if !mounted {
        return Verdict::new(
            Outcome::Pass,
            format!("{} runs without an API token (per {why})", w.display()),
            ev,
        );
    }
    if account == "default" {
        return Verdict::new(
            Outcome::Fail,
            format!(
                "{} mounts an API token of the namespace's default ServiceAccount (per {why}); set {}.automountServiceAccountToken: false, or use a dedicated ServiceAccount if the app calls the API",
                w.display(),
                w.template_path
            ),
            ev,
        );
    }
    Verdict::new(
        Outcome::Warn,
        format!(
            "{} mounts an API token of ServiceAccount {account} (per {why}); fine if the app calls the Kubernetes API, otherwise set automountServiceAccountToken: false",
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
    use crate::snapshot::{Snapshot, Source};

    fn template_only(spec: Value) -> Snapshot {
        let mut s = healthy_shop();
        s.deployments = Source::Read(vec![deployment("cart", 2, spec)]);
        s.pods = Source::Read(vec![]);
        s
    }

    #[test]
    fn resources_need_requests_and_a_memory_limit() {
        assert_eq!(
            result_for(&healthy_shop(), CheckId::Resources, "cart").outcome,
            Outcome::Pass
        );
        let mut spec = good_pod_spec("cart");
        spec["containers"][0]["resources"] = json!({"requests": {"cpu": "100m", "memory": "64Mi"}});
        spec["initContainers"] =
            json!([{"name": "migrate", "image": "registry.example.com/shop/migrate:1"}]);
        let r = result_for(&template_only(spec), CheckId::Resources, "cart");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message
                .contains("containers[app].resources.limits.memory"),
            "{}",
            r.message
        );
        assert!(
            r.message
                .contains("initContainers[migrate].resources.requests.cpu"),
            "{}",
            r.message
        );
    }

    #[test]
    fn an_explicit_run_as_non_root_false_fails_even_with_a_uid() {
        let mut spec = good_pod_spec("cart");
        spec["securityContext"]["runAsNonRoot"] = json!(true);
        spec["securityContext"]["runAsUser"] = json!(1000);
        spec["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false);
        let r = result_for(&template_only(spec), CheckId::NonRoot, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(r.message.contains("runAsNonRoot is false"), "{}", r.message);
    }

    #[test]
    fn a_limit_range_default_counts_as_set_and_says_so() {
        let mut spec = good_pod_spec("cart");
        spec["containers"][0]
            .as_object_mut()
            .map(|c| c.remove("resources"));
        let mut s = template_only(spec);
        s.limit_ranges.push(obj(json!({
            "metadata": {"name": "defaults", "namespace": "shop"},
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
                                 "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]}
        })));
        let r = result_for(&s, CheckId::Resources, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(
            r.message.contains(
                "a LimitRange default supplies containers[app] limits.memory (LimitRange defaults)"
            ),
            "{}",
            r.message
        );

        s.limit_ranges = Source::Forbidden("list limitranges in shop".into());
        assert_eq!(
            result_for(&s, CheckId::Resources, "cart").outcome,
            Outcome::Error
        );
    }

    #[test]
    fn running_pods_are_judged_over_the_template() {
        // The template lacks limits, but admission filled them into the running Pods.
        let mut s = healthy_shop();
        let mut spec = good_pod_spec("cart");
        spec["containers"][0]["resources"] = json!({});
        s.deployments = Source::Read(vec![deployment("cart", 2, spec)]);
        let r = result_for(&s, CheckId::Resources, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(r.message.contains("in 2 running Pod(s)"));
    }

    #[test]
    fn root_and_privileged_containers_fail_with_their_field_paths() {
        assert_eq!(
            result_for(&healthy_shop(), CheckId::NonRoot, "cart").outcome,
            Outcome::Pass
        );
        let mut spec = good_pod_spec("cart");
        spec["securityContext"] = json!({"runAsUser": 0});
        spec["containers"][0]["securityContext"] =
            json!({"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}});
        spec["volumes"] = json!([{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]);
        spec["hostNetwork"] = json!(true);
        let r = result_for(&template_only(spec), CheckId::NonRoot, "cart");
        assert_eq!(r.outcome, Outcome::Fail);
        for needle in [
            "containers[app].securityContext.runAsUser is 0",
            "containers[app].securityContext.privileged is true",
            "containers[app].securityContext.allowPrivilegeEscalation is not false",
            "containers[app].securityContext.capabilities.drop does not contain ALL",
            "capabilities.add has SYS_ADMIN",
            "containers[app].securityContext.seccompProfile is not set",
            "spec.volumes[docker] is a hostPath volume",
            "spec.hostNetwork is true",
        ] {
            assert!(
                r.message.contains(needle),
                "missing {needle:?} in {}",
                r.message
            );
        }
    }

    #[test]
    fn an_empty_pod_selector_network_policy_selects_every_pod() {
        let mut s = healthy_shop();
        let r = result_for(&s, CheckId::NetworkPolicy, "cart");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message
                .contains("Pod cart-a, Pod cart-b of Deployment shop/cart"),
            "{}",
            r.message
        );

        s.network_policies.push(obj(json!({
            "metadata": {"name": "default-deny", "namespace": "shop"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}
        })));
        let r = result_for(&s, CheckId::NetworkPolicy, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(r.evidence.objects.iter().any(|o| o.name == "default-deny"));
    }

    #[test]
    fn an_egress_only_policy_does_not_count_and_unreadable_policies_are_an_error() {
        let mut s = healthy_shop();
        s.network_policies.push(obj(json!({
            "metadata": {"name": "egress", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "cart"}}, "policyTypes": ["Egress"]}
        })));
        assert_eq!(
            result_for(&s, CheckId::NetworkPolicy, "cart").outcome,
            Outcome::Fail
        );
        s.network_policies.push(obj(json!({
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "cart"}}, "ingress": [{}]}
        })));
        assert_eq!(
            result_for(&s, CheckId::NetworkPolicy, "cart").outcome,
            Outcome::Pass
        );
        s.network_policies = Source::Failed("timeout".into());
        assert_eq!(
            result_for(&s, CheckId::NetworkPolicy, "cart").outcome,
            Outcome::Error
        );
    }

    #[test]
    fn image_references_are_parsed_like_the_runtime_does() {
        let i = parse_image("nginx:1.25");
        assert_eq!(i.full_name(), "docker.io/library/nginx");
        assert_eq!(i.tag.as_deref(), Some("1.25"));
        let i = parse_image("localhost:5000/team/app@sha256:abc");
        assert_eq!(
            (i.registry.as_str(), i.repository.as_str()),
            ("localhost:5000", "team/app")
        );
        assert_eq!((i.tag, i.digest.as_deref()), (None, Some("sha256:abc")));
        let i = parse_image("bitnami/redis");
        assert_eq!(i.full_name(), "docker.io/bitnami/redis");
        assert_eq!(i.tag, None);
        assert!(registry_allowed(
            &parse_image("nginx:1"),
            &["docker.io/library".to_string()]
        ));
        assert!(!registry_allowed(
            &parse_image("ghcr.io/acmex/app:1"),
            &["ghcr.io/acme".to_string()]
        ));
    }

    #[test]
    fn unpinned_images_and_foreign_registries_fail() {
        let r = result_with(
            &healthy_shop(),
            CheckId::Image,
            "cart",
            Params {
                allowed_registries: vec!["registry.example.com".into()],
                ..Params::default()
            },
        );
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);

        let mut spec = good_pod_spec("cart");
        spec["containers"][0]["image"] = json!("nginx");
        if let Some(c) = spec["containers"].as_array_mut() {
            c.push(json!({"name": "side", "image": "busybox:latest"}));
        }
        let r = result_with(
            &template_only(spec),
            CheckId::Image,
            "cart",
            Params {
                allowed_registries: vec!["registry.example.com".into()],
                ..Params::default()
            },
        );
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.contains("image nginx has no tag"),
            "{}",
            r.message
        );
        assert!(
            r.message.contains("busybox:latest uses the tag latest"),
            "{}",
            r.message
        );
        assert!(
            r.message
                .contains("docker.io/library/nginx) is not from an allowed registry"),
            "{}",
            r.message
        );
    }

    #[test]
    fn priority_class_is_a_warning_by_default_and_guaranteed_qos_is_opt_in() {
        assert_eq!(
            result_for(&healthy_shop(), CheckId::QosPriority, "cart").outcome,
            Outcome::Pass
        );
        let mut spec = good_pod_spec("cart");
        spec.as_object_mut().map(|m| m.remove("priorityClassName"));
        spec["containers"][0]["resources"]["limits"]["cpu"] = json!("1");
        let s = template_only(spec);
        assert_eq!(
            result_for(&s, CheckId::QosPriority, "cart").outcome,
            Outcome::Warn
        );
        let strict = Params {
            require_guaranteed: Some(true),
            priority_classes: vec!["business".into()],
            ..Params::default()
        };
        let r = result_with(&s, CheckId::QosPriority, "cart", strict.clone());
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.contains("requests cpu 100m but limits it to 1"),
            "{}",
            r.message
        );
        assert!(
            r.message.contains("priorityClassName is not set"),
            "{}",
            r.message
        );
        assert_eq!(
            result_with(&healthy_shop(), CheckId::QosPriority, "cart", strict).outcome,
            Outcome::Pass
        );
    }

    #[test]
    fn the_default_service_account_with_a_token_fails() {
        let mut spec = good_pod_spec("cart");
        spec.as_object_mut()
            .map(|m| m.remove("automountServiceAccountToken"));
        let s = template_only(spec.clone());
        let r = result_for(&s, CheckId::ServiceAccount, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);

        let mut s2 = template_only(spec.clone());
        s2.service_accounts = Source::Forbidden("list serviceaccounts in shop".into());
        assert_eq!(
            result_for(&s2, CheckId::ServiceAccount, "cart").outcome,
            Outcome::Error
        );

        spec["serviceAccountName"] = json!("cart");
        let mut s3 = template_only(spec);
        assert_eq!(
            result_for(&s3, CheckId::ServiceAccount, "cart").outcome,
            Outcome::Warn
        );
        s3.service_accounts.push(obj(json!({
            "metadata": {"name": "cart", "namespace": "shop"}, "automountServiceAccountToken": false
        })));
        assert_eq!(
            result_for(&s3, CheckId::ServiceAccount, "cart").outcome,
            Outcome::Pass
        );
        assert_eq!(
            result_for(&healthy_shop(), CheckId::ServiceAccount, "cart").outcome,
            Outcome::Pass
        );
    }
}
