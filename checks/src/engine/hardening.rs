//! Checks of what runs and with which rights: resources, security context, network policy,
//! images, QoS and priority, service account tokens.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    AppArmorProfile, Container, Pod, PodSpec, SELinuxOptions, Volume,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

use super::index::Index;
use super::quantity::{cpu_millis, whole};
use super::{
    Cx, EvidenceExt, Verdict, all_containers, error, judge_specs, list_some, name_of, next_rollout,
    obj_ref, pod_refs, selector, source_error,
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
    let judged = judge_specs(cx, &mut ev, |spec: &PodSpec, _: &ObjectMeta| {
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
    // The running Pods carry what admission filled in; only the template's gaps may be a
    // LimitRange's to fill.
    if judged.template_bad
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

/// Sysctls the Pod Security Standards count as safe (baseline profile, Kubernetes 1.29+).
const SAFE_SYSCTLS: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// SELinux types the baseline profile allows (besides none).
const SELINUX_TYPES: [&str; 4] = [
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// The pod annotation that sets a container's AppArmor profile (before the securityContext
/// field of Kubernetes 1.30; still honoured).
const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The volume types the restricted profile allows, for messages.
const RESTRICTED_VOLUMES: &str =
    "configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret";

/// The type of a volume the restricted profile refuses (hostPath, refused by the baseline
/// profile already, is reported on its own). A volume with no source is an emptyDir.
fn refused_volume_type(v: &Volume) -> Option<&'static str> {
    [
        (v.aws_elastic_block_store.is_some(), "awsElasticBlockStore"),
        (v.azure_disk.is_some(), "azureDisk"),
        (v.azure_file.is_some(), "azureFile"),
        (v.cephfs.is_some(), "cephfs"),
        (v.cinder.is_some(), "cinder"),
        (v.fc.is_some(), "fc"),
        (v.flex_volume.is_some(), "flexVolume"),
        (v.flocker.is_some(), "flocker"),
        (v.gce_persistent_disk.is_some(), "gcePersistentDisk"),
        (v.git_repo.is_some(), "gitRepo"),
        (v.glusterfs.is_some(), "glusterfs"),
        (v.image.is_some(), "image"),
        (v.iscsi.is_some(), "iscsi"),
        (v.nfs.is_some(), "nfs"),
        (v.photon_persistent_disk.is_some(), "photonPersistentDisk"),
        (v.portworx_volume.is_some(), "portworxVolume"),
        (v.quobyte.is_some(), "quobyte"),
        (v.rbd.is_some(), "rbd"),
        (v.scale_io.is_some(), "scaleIO"),
        (v.storageos.is_some(), "storageos"),
        (v.vsphere_volume.is_some(), "vsphereVolume"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then_some(name))
}

/// The SELinux options the baseline profile refuses, at `path` (`spec.securityContext`).
fn selinux_violations(path: &str, o: Option<&SELinuxOptions>, v: &mut Vec<String>) {
    let Some(o) = o else { return };
    for (value, field) in [(&o.user, "user"), (&o.role, "role")] {
        if let Some(value) = value.as_deref().filter(|s| !s.is_empty()) {
            v.push(format!(
                "{path}.seLinuxOptions.{field} is {value} (remove it: no custom SELinux {field})"
            ));
        }
    }
    if let Some(t) = o.type_.as_deref().filter(|s| !s.is_empty())
        && !SELINUX_TYPES.contains(&t)
    {
        v.push(format!(
            "{path}.seLinuxOptions.type is {t} (remove it or use one of {})",
            SELINUX_TYPES.join(", ")
        ));
    }
}

/// An explicit `Unconfined` AppArmor profile at `path`.
fn apparmor_violation(path: &str, p: Option<&AppArmorProfile>, v: &mut Vec<String>) {
    if let Some(p) = p
        && p.type_ == "Unconfined"
    {
        v.push(format!(
            "{path}.appArmorProfile.type is Unconfined (use RuntimeDefault or Localhost)"
        ));
    }
}

/// Whether a seccomp profile type is one the restricted profile accepts.
fn seccomp_ok(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

/// What keeps a Pod from the restricted Pod Security Standard (which includes the baseline
/// one), as Kubernetes' PodSecurity admission judges it, each naming the field to change. Paths
/// are relative to the pod (`spec.securityContext`, `containers[app].securityContext`).
fn restricted_violations(spec: &PodSpec, meta: &ObjectMeta) -> Vec<String> {
    let mut v = Vec::new();
    // The restricted-only rules on privilege escalation, seccomp and capabilities do not apply
    // to Windows Pods.
    let linux = spec.os.as_ref().is_none_or(|os| os.name != "windows");
    for (flag, name) in [
        (spec.host_network, "hostNetwork"),
        (spec.host_pid, "hostPID"),
        (spec.host_ipc, "hostIPC"),
    ] {
        if flag == Some(true) {
            v.push(format!("spec.{name} is true (remove it)"));
        }
    }
    for vol in spec.volumes.iter().flatten() {
        if vol.host_path.is_some() {
            v.push(format!(
                "spec.volumes[{}] is a hostPath volume (use an emptyDir or a persistentVolumeClaim)",
                vol.name
            ));
        } else if let Some(t) = refused_volume_type(vol) {
            v.push(format!(
                "spec.volumes[{}] is a {t} volume (the restricted profile allows only {RESTRICTED_VOLUMES}; use a persistentVolumeClaim or csi)",
                vol.name
            ));
        }
    }
    for (key, value) in meta.annotations.iter().flatten() {
        if let Some(container) = key.strip_prefix(APPARMOR_ANNOTATION)
            && !(value.is_empty() || value == "runtime/default" || value.starts_with("localhost/"))
        {
            v.push(format!(
                "metadata.annotations[{key}] is {value} (AppArmor for container {container}: remove it or use runtime/default)"
            ));
        }
    }
    let psc = spec.security_context.as_ref();
    let pod_path = "spec.securityContext";
    let pod_non_root = psc.and_then(|p| p.run_as_non_root);
    if pod_non_root == Some(false) {
        v.push(format!("{pod_path}.runAsNonRoot is false (set it to true)"));
    }
    if psc.and_then(|p| p.run_as_user) == Some(0) {
        v.push(format!(
            "{pod_path}.runAsUser is 0 (root; set a non-zero UID and runAsNonRoot: true)"
        ));
    }
    let pod_seccomp = psc
        .and_then(|p| p.seccomp_profile.as_ref())
        .map(|p| p.type_.as_str());
    if linux && let Some(t) = pod_seccomp.filter(|t| !seccomp_ok(t)) {
        v.push(format!(
            "{pod_path}.seccompProfile.type is {t} (use RuntimeDefault)"
        ));
    }
    if let Some(p) = psc {
        selinux_violations(pod_path, p.se_linux_options.as_ref(), &mut v);
        apparmor_violation(pod_path, p.app_armor_profile.as_ref(), &mut v);
        if p.windows_options.as_ref().and_then(|w| w.host_process) == Some(true) {
            v.push(format!(
                "{pod_path}.windowsOptions.hostProcess is true (remove it)"
            ));
        }
        for s in p.sysctls.iter().flatten() {
            if !SAFE_SYSCTLS.contains(&s.name.replace('/', ".").as_str()) {
                v.push(format!(
                    "{pod_path}.sysctls has {}, which is not a safe sysctl (remove it)",
                    s.name
                ));
            }
        }
    }
    for (field, c) in all_containers(spec) {
        let sc = c.security_context.as_ref();
        let path = format!("{field}[{}].securityContext", c.name);
        // A container's runAsNonRoot and runAsUser override the pod's; the profile wants every
        // container to end up with runAsNonRoot: true, and no UID 0 anywhere.
        match sc.and_then(|s| s.run_as_non_root) {
            Some(true) => {}
            Some(false) => v.push(format!(
                "{path}.runAsNonRoot is false (set it to true, or remove it and set {pod_path}.runAsNonRoot: true)"
            )),
            // An explicit false at pod level is reported once, above.
            None if pod_non_root == Some(false) => {}
            None if pod_non_root == Some(true) => {}
            None => v.push(format!(
                "{path}.runAsNonRoot is not set and neither is {pod_path}.runAsNonRoot (set runAsNonRoot: true; a non-zero runAsUser alone is not enough)"
            )),
        }
        if sc.and_then(|s| s.run_as_user) == Some(0) {
            v.push(format!("{path}.runAsUser is 0 (root; set a non-zero UID)"));
        }
        if linux && sc.and_then(|s| s.allow_privilege_escalation) != Some(false) {
            v.push(format!(
                "{path}.allowPrivilegeEscalation is not false (set it to false)"
            ));
        }
        if sc.and_then(|s| s.privileged) == Some(true) {
            v.push(format!("{path}.privileged is true (remove it)"));
        }
        if sc
            .and_then(|s| s.windows_options.as_ref())
            .and_then(|w| w.host_process)
            == Some(true)
        {
            v.push(format!(
                "{path}.windowsOptions.hostProcess is true (remove it)"
            ));
        }
        if let Some(m) = sc
            .and_then(|s| s.proc_mount.as_deref())
            .filter(|m| *m != "Default")
        {
            v.push(format!("{path}.procMount is {m} (remove it: Default)"));
        }
        selinux_violations(&path, sc.and_then(|s| s.se_linux_options.as_ref()), &mut v);
        apparmor_violation(&path, sc.and_then(|s| s.app_armor_profile.as_ref()), &mut v);
        for p in c.ports.iter().flatten() {
            if let Some(h) = p.host_port.filter(|h| *h != 0) {
                let port = p
                    .name
                    .clone()
                    .unwrap_or_else(|| p.container_port.to_string());
                v.push(format!(
                    "{field}[{}].ports[{port}].hostPort is {h} (remove it; reach the Pod through a Service)",
                    c.name
                ));
            }
        }
        let caps = sc.and_then(|s| s.capabilities.as_ref());
        let added: Vec<&str> = caps
            .and_then(|c| c.add.as_ref())
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|a| *a != "NET_BIND_SERVICE")
            .collect();
        if !added.is_empty() {
            v.push(format!(
                "{path}.capabilities.add has {} (only NET_BIND_SERVICE may be added)",
                added.join(", ")
            ));
        }
        if !linux {
            continue;
        }
        if !caps
            .and_then(|c| c.drop.as_ref())
            .is_some_and(|d| d.iter().any(|d| d == "ALL"))
        {
            v.push(format!(
                "{path}.capabilities.drop does not contain ALL (set capabilities.drop: [ALL])"
            ));
        }
        match sc
            .and_then(|s| s.seccomp_profile.as_ref())
            .map(|p| p.type_.as_str())
        {
            Some(t) if seccomp_ok(t) => {}
            Some(other) => v.push(format!(
                "{path}.seccompProfile.type is {other} (use RuntimeDefault)"
            )),
            // An unacceptable pod-level profile is reported once, above.
            None if pod_seccomp.is_some() => {}
            None => v.push(format!(
                "{path}.seccompProfile is not set (neither on the container nor in {pod_path}: set {pod_path}.seccompProfile.type: RuntimeDefault)"
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
    // The running Pods, else the template; a batch workload's template always (the next run
    // starts from it), never the finished Pods of earlier runs.
    let pods = cx.live_pods();
    pod_refs(&mut ev, &pods);
    let template = (pods.is_empty() || w.kind.is_batch()).then(|| {
        (
            format!(
                "the pod template (labels {})",
                selector::describe_labels(w.template_labels())
            ),
            w.template_labels(),
        )
    });
    let subjects: Vec<(String, Option<&selector::Labels>)> = template
        .into_iter()
        .chain(pods.iter().map(|p| {
            (
                format!("Pod {}", name_of(&p.metadata)),
                p.metadata.labels.as_ref(),
            )
        }))
        .collect();
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
    } else if w.kind.is_batch() {
        format!("the pod template and all {} running Pod(s)", pods.len())
    } else {
        format!("all {} running Pod(s)", pods.len())
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
    let judged = judge_specs(cx, &mut ev, |spec: &PodSpec, _: &ObjectMeta| {
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
    // The digests that run now: a finished Pod (an evicted one, an earlier Job run) may have run
    // another image, as the images judged above come from the running Pods too.
    let mut image_ids: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for p in cx.live_pods() {
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
    let template_pc = w
        .pod_spec()
        .priority_class_name
        .as_deref()
        .filter(|s| !s.is_empty());
    ev.val(
        format!("{}.priorityClassName", w.template_path),
        template_pc.map_or(Value::Null, Value::from),
    );
    let qos: BTreeSet<&str> = cx
        .live_pods()
        .iter()
        .filter_map(|p| p.status.as_ref()?.qos_class.as_deref())
        .collect();
    if !qos.is_empty() {
        ev.val("status.qosClass", json!(qos));
    }
    // Admission gives a Pod that names no class the cluster's globalDefault PriorityClass (and
    // its spec.priority), so the running Pods say what the scheduler really uses.
    const UNSET: &str = "no priorityClassName";
    let allowed = &params.priority_classes;
    let classes: RefCell<BTreeSet<String>> = RefCell::new(BTreeSet::new());
    let priorities: RefCell<BTreeSet<i32>> = RefCell::new(BTreeSet::new());
    // Judged beside running Pods (a rollout not complete, a CronJob's run), a template that
    // names no class is no finding of its own: admission fills in the globalDefault for its
    // Pods as it did for the running ones, whose classes are judged.
    let template_spec = w.pod_spec();
    let running = cx.live_pods().iter().any(|p| p.spec.is_some());
    let judged = judge_specs(cx, &mut ev, |spec: &PodSpec, _: &ObjectMeta| {
        if let Some(p) = spec.priority {
            priorities.borrow_mut().insert(p);
        }
        match spec
            .priority_class_name
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            None if running && std::ptr::eq(spec, template_spec) => Vec::new(),
            None => vec![UNSET.to_string()],
            Some(p) => {
                classes.borrow_mut().insert(p.to_string());
                if allowed.is_empty() || allowed.iter().any(|c| c == p) {
                    Vec::new()
                } else {
                    vec![format!(
                        "priorityClassName {p} is not one of {}",
                        allowed.join(", ")
                    )]
                }
            }
        }
    });
    let classes: Vec<String> = classes.into_inner().into_iter().collect();
    let priorities = priorities.into_inner();
    if judged.from.pods() {
        ev.val("pods.spec.priorityClassName", json!(classes));
        if !priorities.is_empty() {
            ev.val("pods.spec.priority", json!(priorities));
        }
    }
    let unset = judged.problems.iter().any(|p| p == UNSET);
    let field = format!("{}.priorityClassName", w.template_path);
    let mut fails = Vec::new();
    if !allowed.is_empty() {
        ev.val("priority_classes", json!(allowed));
        let mut wrong: Vec<String> = judged
            .problems
            .iter()
            .filter(|p| *p != UNSET)
            .cloned()
            .collect();
        if unset {
            wrong.insert(0, "priorityClassName is not set".to_string());
        }
        if !wrong.is_empty() {
            fails.push(format!(
                "{} {}; set {field} to one of {}",
                wrong.join("; "),
                judged.scope,
                allowed.join(", ")
            ));
        }
    }
    let require = params.require_guaranteed.unwrap_or(false);
    ev.val("require_guaranteed", require);
    if require {
        let guaranteed = judge_specs(cx, &mut ev, |spec: &PodSpec, _: &ObjectMeta| {
            guaranteed_violations(spec)
        });
        if !guaranteed.problems.is_empty() {
            fails.push(format!(
                "not Guaranteed QoS {}: {}; set limits equal to requests for cpu and memory",
                guaranteed.scope,
                guaranteed.problems.join("; ")
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
    if unset {
        return Verdict::new(
            Outcome::Warn,
            format!(
                "{} runs with no priorityClassName {}, so under node pressure it is preempted like any other Pod; set {field} if the service is critical",
                w.display(),
                judged.scope
            ),
            ev,
        );
    }
    let defaulted = if judged.from.pods() && template_pc.is_none() {
        format!(
            "; the template names none ({field}), so it is the cluster's globalDefault PriorityClass, filled in at admission"
        )
    } else {
        String::new()
    };
    Verdict::new(
        Outcome::Pass,
        format!(
            "{} runs with priorityClassName {} {}{}{defaulted}",
            w.display(),
            classes.join(", "),
            judged.scope,
            if require { " and Guaranteed QoS" } else { "" }
        ),
        ev,
    )
}

/// Where the kubelet mounts a Pod's ServiceAccount token.
const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Whether a Pod spec carries an API token: the projected `kube-api-access-*` volume admission
/// adds, or any volume mounted at the token's path (legacy token Secrets, hand-made projections).
fn mounts_api_token(spec: &PodSpec) -> bool {
    spec.volumes
        .iter()
        .flatten()
        .any(|v| v.name.starts_with("kube-api-access-"))
        || all_containers(spec).any(|(_, c)| {
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| m.mount_path.trim_end_matches('/') == TOKEN_MOUNT_PATH)
        })
}

/// The ServiceAccount a pod spec runs as (`default` when it names none).
fn account_of(spec: &PodSpec) -> &str {
    spec.service_account_name
        .as_deref()
        .or(spec.service_account.as_deref())
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
}

/// How bad a mounted token is: none (0), a dedicated account's (1), the default account's (2).
fn token_severity(mounted: bool, account: &str) -> u8 {
    match (mounted, account) {
        (false, _) => 0,
        (true, "default") => 2,
        (true, _) => 1,
    }
}

/// The account and whether a token is mounted, as the pod template says (with the
/// ServiceAccount's automountServiceAccountToken when the template leaves it out), and why.
fn template_token<'c>(cx: &'c Cx<'_, '_>) -> Result<(&'c str, bool, String), Verdict> {
    let w = cx.w;
    let spec = w.pod_spec();
    let account = account_of(spec);
    let sa = cx.idx.service_account(w.namespace, account);
    let (mounted, why) = match (spec.automount_service_account_token, sa) {
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
                return Err(error(format!(
                    "{e}; {} does not set automountServiceAccountToken, so whether a token is mounted depends on ServiceAccount {account}",
                    w.display()
                )));
            }
            (
                true,
                format!(
                    "the Kubernetes default (ServiceAccount {account} not among the objects read)"
                ),
            )
        }
    };
    Ok((account, mounted, why))
}

pub fn service_account(cx: &Cx<'_, '_>) -> Verdict {
    let w = cx.w;
    let spec = w.pod_spec();
    let mut ev = Evidence::default();
    ev.val(
        format!("{}.automountServiceAccountToken", w.template_path),
        spec.automount_service_account_token
            .map_or(Value::Null, Value::from),
    );
    // The running Pods, when there are any, say which account admission gave them and whether
    // a token volume was mounted (a mutating webhook may change either). The template is judged
    // beside them while a rollout is not complete, and for a batch workload (its next run).
    let live = cx.live_pods();
    let running: Vec<(&Pod, &PodSpec)> = live
        .iter()
        .filter_map(|p| p.spec.as_ref().map(|s| (*p, s)))
        .collect();
    let (account, mounted, why) = if running.is_empty() {
        match template_token(cx) {
            Ok(t) => t,
            Err(v) => return v,
        }
    } else {
        let pods: Vec<&Pod> = running.iter().map(|(p, _)| *p).collect();
        pod_refs(&mut ev, &pods);
        let with_token: Vec<&(&Pod, &PodSpec)> = running
            .iter()
            .filter(|(_, s)| mounts_api_token(s))
            .collect();
        ev.val(
            "pods_with_token_volume",
            json!(
                with_token
                    .iter()
                    .map(|(p, _)| name_of(&p.metadata))
                    .collect::<Vec<_>>()
            ),
        );
        let judged = if with_token.is_empty() {
            running.iter().collect()
        } else {
            with_token.clone()
        };
        let accounts: BTreeSet<&str> = judged.iter().map(|(_, s)| account_of(s)).collect();
        ev.val("pods.spec.serviceAccountName", json!(accounts));
        // The namespace's default account is the worse finding when Pods differ (mid-rollout).
        let account = if accounts.contains("default") {
            "default"
        } else {
            accounts.first().copied().unwrap_or("default")
        };
        let why = if with_token.is_empty() {
            format!("the {} running Pod(s): no token volume", running.len())
        } else {
            format!(
                "the token volume of {} of {} running Pod(s) (e.g. {})",
                with_token.len(),
                running.len(),
                with_token.first().map_or("", |(p, _)| name_of(&p.metadata))
            )
        };
        let mounted = !with_token.is_empty();
        let pending = match &w.rollout_pending {
            Some(why) => Some(why.as_str()),
            None if w.kind.is_batch() => Some("the next run starts from the template"),
            None => None,
        };
        // A template that would mount a worse token than the running Pods have is what the
        // next rollout brings; an error reading its ServiceAccount leaves the Pods the truth.
        match (pending, template_token(cx)) {
            (Some(pending), Ok((t_account, t_mounted, t_why)))
                if token_severity(t_mounted, t_account) > token_severity(mounted, account) =>
            {
                ev.obj(cx.template_object());
                ev.val("rollout_pending", pending);
                ev.val("template.serviceAccountName", t_account);
                ev.val("template.token_mounted", t_mounted);
                let next = if w.kind.is_batch() {
                    format!("the next run brings it ({pending})")
                } else {
                    next_rollout(pending)
                };
                (
                    t_account,
                    t_mounted,
                    format!(
                        "the pod template: {t_why}; not yet in the {} running Pod(s) ({why}): {next}",
                        running.len()
                    ),
                )
            }
            _ => (account, mounted, why),
        }
    };
    ev.val("serviceAccountName", account);
    if let Some(sa) = cx.idx.service_account(w.namespace, account) {
        ev.obj(obj_ref("ServiceAccount", &sa.metadata));
        ev.val(
            "serviceAccount.automountServiceAccountToken",
            sa.automount_service_account_token
                .map_or(Value::Null, Value::from),
        );
    }
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

    /// A CronJob `shop/report` with pod template `template`, and Pods of its runs: a finished
    /// one and, when given, one still running.
    fn report_cron_job(template: Value, finished: Value, running: Option<Value>) -> Snapshot {
        let mut s = healthy_shop();
        s.cron_jobs.push(obj(json!({
            "metadata": {"name": "report", "namespace": "shop"},
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template":
                {"metadata": {"labels": {"app": "report"}}, "spec": template}}}}
        })));
        let runs = [
            (
                "report-28999940-x",
                "report-28999940",
                "Succeeded",
                Some(finished),
            ),
            ("report-29000000-y", "report-29000000", "Running", running),
        ];
        for (name, job, phase, spec) in runs {
            let Some(spec) = spec else { continue };
            s.pods.push(obj(json!({
                "metadata": {"name": name, "namespace": "shop", "labels": {"app": "report"},
                             "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job,
                                                  "uid": job, "controller": true}]},
                "spec": spec,
                "status": {"phase": phase}
            })));
        }
        s
    }

    fn root_spec() -> Value {
        let mut spec = good_pod_spec("report");
        spec["containers"][0]["securityContext"] = json!({"privileged": true});
        spec
    }

    #[test]
    fn a_cron_job_is_judged_on_its_template_not_on_the_finished_pods_of_earlier_runs() {
        // Fixed since the last run: the finished Pod's old spec does not count.
        let s = report_cron_job(good_pod_spec("report"), root_spec(), None);
        let r = result_for(&s, CheckId::NonRoot, "report");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(
            r.message.contains("in the pod template (no running Pods)"),
            "{}",
            r.message
        );
        assert!(!r.evidence.objects.iter().any(|o| o.kind == "Pod"));
        // Broken since the last run: the template fails though the finished Pod was fine.
        let s = report_cron_job(root_spec(), good_pod_spec("report"), None);
        let r = result_for(&s, CheckId::NonRoot, "report");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(r.message.contains("privileged is true"), "{}", r.message);
    }

    #[test]
    fn a_cron_job_is_judged_on_its_template_and_its_running_pods() {
        // A webhook made the running Pod privileged: the template alone is not enough.
        let s = report_cron_job(
            good_pod_spec("report"),
            good_pod_spec("report"),
            Some(root_spec()),
        );
        let r = result_for(&s, CheckId::NonRoot, "report");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains(
                "in 1 of 1 running Pod(s) (e.g. report-29000000-y) (not in the pod template)"
            ),
            "{}",
            r.message
        );
        let pods: Vec<&str> = r
            .evidence
            .objects
            .iter()
            .filter(|o| o.kind == "Pod")
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(
            pods,
            ["report-29000000-y"],
            "the finished Pod is not judged"
        );
        // A running Pod of the old template does not hide a broken template.
        let s = report_cron_job(root_spec(), root_spec(), Some(good_pod_spec("report")));
        let r = result_for(&s, CheckId::NonRoot, "report");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("in the pod template (not in the 1 running Pod(s))"),
            "{}",
            r.message
        );
        let s = report_cron_job(
            good_pod_spec("report"),
            root_spec(),
            Some(good_pod_spec("report")),
        );
        let r = result_for(&s, CheckId::NonRoot, "report");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(
            r.message
                .contains("in the pod template and 1 running Pod(s)"),
            "{}",
            r.message
        );
    }

    #[test]
    fn a_cron_job_is_isolated_by_its_template_labels_not_those_of_finished_pods() {
        // The template's labels changed to ones a NetworkPolicy selects; the finished Pod of
        // the last run still carries the old ones.
        let mut s = report_cron_job(good_pod_spec("report"), good_pod_spec("report"), None);
        if let Source::Read(pods) = &mut s.pods {
            for p in pods
                .iter_mut()
                .filter(|p| p.metadata.name.as_deref() == Some("report-28999940-x"))
            {
                p.metadata.labels = Some([("app".to_string(), "old-report".to_string())].into());
            }
        }
        s.network_policies.push(obj(json!({
            "metadata": {"name": "report", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "report"}}}
        })));
        let r = result_for(&s, CheckId::NetworkPolicy, "report");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        // And the other way round: a template no policy selects fails.
        s.network_policies = Source::Read(vec![obj(json!({
            "metadata": {"name": "old", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "old-report"}}}
        }))]);
        let r = result_for(&s, CheckId::NetworkPolicy, "report");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(r.message.contains("the pod template"), "{}", r.message);
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
            "spec.securityContext.runAsUser is 0",
            "containers[app].securityContext.runAsNonRoot is not set and neither is spec.securityContext.runAsNonRoot",
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

    /// The healthy shop whose running Pods (not the template) run `spec`, as admission or a
    /// mutating webhook may have changed them.
    fn pods_running(spec: Value) -> Snapshot {
        let mut s = healthy_shop();
        s.pods = Source::Read(vec![
            pod("cart-a", "cart", "n1", spec.clone()),
            pod("cart-b", "cart", "n2", spec),
        ]);
        s
    }

    #[test]
    fn a_non_zero_uid_without_run_as_non_root_does_not_meet_the_restricted_profile() {
        // runAsUser: 1000 alone: the restricted profile still wants runAsNonRoot: true.
        let mut spec = good_pod_spec("cart");
        spec["securityContext"] =
            json!({"runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}});
        let r = result_for(&template_only(spec.clone()), CheckId::NonRoot, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains(
                "containers[app].securityContext.runAsNonRoot is not set and neither is spec.securityContext.runAsNonRoot (set runAsNonRoot: true"
            ),
            "{}",
            r.message
        );
        // Set on every container instead of the pod, it passes.
        spec["containers"][0]["securityContext"]["runAsNonRoot"] = json!(true);
        let r = result_for(&template_only(spec), CheckId::NonRoot, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
    }

    #[test]
    fn every_restricted_profile_rule_passes_and_fails_on_its_own_field() {
        type Edit = fn(&mut Value);
        let cases: Vec<(&str, Edit, Option<&str>)> = vec![
            (
                "pod runAsNonRoot false",
                |s| s["securityContext"]["runAsNonRoot"] = json!(false),
                Some("spec.securityContext.runAsNonRoot is false (set it to true)"),
            ),
            (
                "container runAsUser 0 under a non-root pod",
                |s| s["containers"][0]["securityContext"]["runAsUser"] = json!(0),
                Some("containers[app].securityContext.runAsUser is 0 (root"),
            ),
            (
                "a non-zero container UID",
                |s| s["containers"][0]["securityContext"]["runAsUser"] = json!(10001),
                None,
            ),
            (
                "seccomp on the container only",
                |s| {
                    s["securityContext"]
                        .as_object_mut()
                        .map(|m| m.remove("seccompProfile"));
                    s["containers"][0]["securityContext"]["seccompProfile"] =
                        json!({"type": "Localhost", "localhostProfile": "app.json"});
                },
                None,
            ),
            (
                "pod seccomp Unconfined",
                |s| s["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"}),
                Some("spec.securityContext.seccompProfile.type is Unconfined (use RuntimeDefault)"),
            ),
            (
                "container seccomp Unconfined",
                |s| {
                    s["containers"][0]["securityContext"]["seccompProfile"] =
                        json!({"type": "Unconfined"})
                },
                Some("containers[app].securityContext.seccompProfile.type is Unconfined"),
            ),
            (
                "privileged",
                |s| s["containers"][0]["securityContext"]["privileged"] = json!(true),
                Some("containers[app].securityContext.privileged is true (remove it)"),
            ),
            (
                "hostPID",
                |s| s["hostPID"] = json!(true),
                Some("spec.hostPID is true (remove it)"),
            ),
            (
                "hostIPC",
                |s| s["hostIPC"] = json!(true),
                Some("spec.hostIPC is true (remove it)"),
            ),
            (
                "hostPath",
                |s| s["volumes"] = json!([{"name": "logs", "hostPath": {"path": "/var/log"}}]),
                Some("spec.volumes[logs] is a hostPath volume"),
            ),
            (
                "hostPort",
                |s| s["containers"][0]["ports"][0]["hostPort"] = json!(8080),
                Some("containers[app].ports[http].hostPort is 8080 (remove it"),
            ),
            (
                "hostPort 0",
                |s| s["containers"][0]["ports"][0]["hostPort"] = json!(0),
                None,
            ),
            (
                "added NET_BIND_SERVICE",
                |s| {
                    s["containers"][0]["securityContext"]["capabilities"]["add"] =
                        json!(["NET_BIND_SERVICE"])
                },
                None,
            ),
            (
                "added CHOWN",
                |s| s["containers"][0]["securityContext"]["capabilities"]["add"] = json!(["CHOWN"]),
                Some(
                    "containers[app].securityContext.capabilities.add has CHOWN (only NET_BIND_SERVICE may be added)",
                ),
            ),
            (
                "procMount Default",
                |s| s["containers"][0]["securityContext"]["procMount"] = json!("Default"),
                None,
            ),
            (
                "procMount Unmasked",
                |s| s["containers"][0]["securityContext"]["procMount"] = json!("Unmasked"),
                Some("containers[app].securityContext.procMount is Unmasked"),
            ),
            (
                "a safe sysctl",
                |s| {
                    s["securityContext"]["sysctls"] =
                        json!([{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}])
                },
                None,
            ),
            (
                "an unsafe sysctl",
                |s| {
                    s["securityContext"]["sysctls"] =
                        json!([{"name": "kernel.msgmax", "value": "65536"}])
                },
                Some("spec.securityContext.sysctls has kernel.msgmax, which is not a safe sysctl"),
            ),
            (
                "SELinux type container_t",
                |s| {
                    s["securityContext"]["seLinuxOptions"] =
                        json!({"type": "container_t", "level": "s0:c123,c456"})
                },
                None,
            ),
            (
                "SELinux user",
                |s| {
                    s["containers"][0]["securityContext"]["seLinuxOptions"] =
                        json!({"user": "system_u"})
                },
                Some("containers[app].securityContext.seLinuxOptions.user is system_u"),
            ),
            (
                "SELinux role",
                |s| s["securityContext"]["seLinuxOptions"] = json!({"role": "sysadm_r"}),
                Some("spec.securityContext.seLinuxOptions.role is sysadm_r"),
            ),
            (
                "SELinux type spc_t",
                |s| s["securityContext"]["seLinuxOptions"] = json!({"type": "spc_t"}),
                Some("spec.securityContext.seLinuxOptions.type is spc_t"),
            ),
            (
                "AppArmor RuntimeDefault",
                |s| s["securityContext"]["appArmorProfile"] = json!({"type": "RuntimeDefault"}),
                None,
            ),
            (
                "AppArmor Unconfined",
                |s| {
                    s["containers"][0]["securityContext"]["appArmorProfile"] =
                        json!({"type": "Unconfined"})
                },
                Some("containers[app].securityContext.appArmorProfile.type is Unconfined"),
            ),
            (
                "allowed volume types",
                |s| {
                    s["volumes"] = json!([
                        {"name": "config", "configMap": {"name": "cart"}}, {"name": "tmp", "emptyDir": {}},
                        {"name": "data", "persistentVolumeClaim": {"claimName": "cart"}}, {"name": "creds", "secret": {"secretName": "cart"}},
                        {"name": "info", "downwardAPI": {"items": []}}, {"name": "store", "csi": {"driver": "secrets-store.csi.k8s.io"}}
                    ])
                },
                None,
            ),
            (
                "an nfs volume",
                |s| {
                    s["volumes"] =
                        json!([{"name": "share", "nfs": {"server": "nas", "path": "/export"}}])
                },
                Some(
                    "spec.volumes[share] is a nfs volume (the restricted profile allows only configMap, csi",
                ),
            ),
            (
                "a Windows hostProcess container",
                |s| {
                    s["containers"][0]["securityContext"]["windowsOptions"] =
                        json!({"hostProcess": true})
                },
                Some("containers[app].securityContext.windowsOptions.hostProcess is true"),
            ),
        ];
        for (what, edit, needle) in cases {
            let mut spec = good_pod_spec("cart");
            edit(&mut spec);
            let r = result_for(&template_only(spec), CheckId::NonRoot, "cart");
            match needle {
                None => assert_eq!(r.outcome, Outcome::Pass, "{what}: {}", r.message),
                Some(needle) => {
                    assert_eq!(r.outcome, Outcome::Fail, "{what}: {}", r.message);
                    assert!(
                        r.message.contains(needle),
                        "{what}: missing {needle:?} in {}",
                        r.message
                    );
                }
            }
        }
    }

    #[test]
    fn an_unconfined_app_armor_annotation_fails_on_the_pods_that_carry_it() {
        // The template is clean; a webhook annotated the running Pods.
        let mut s = healthy_shop();
        let annotated = |name: &str, node: &str, value: &str| {
            let mut p = pod(name, "cart", node, good_pod_spec("cart"));
            p.metadata.annotations = Some(
                [(
                    "container.apparmor.security.beta.kubernetes.io/app".to_string(),
                    value.to_string(),
                )]
                .into(),
            );
            p
        };
        s.pods = Source::Read(vec![
            annotated("cart-a", "n1", "runtime/default"),
            annotated("cart-b", "n2", "localhost/cart"),
        ]);
        assert_eq!(
            result_for(&s, CheckId::NonRoot, "cart").outcome,
            Outcome::Pass
        );
        s.pods = Source::Read(vec![
            annotated("cart-a", "n1", "runtime/default"),
            annotated("cart-b", "n2", "unconfined"),
        ]);
        let r = result_for(&s, CheckId::NonRoot, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains(
                "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app] is unconfined"
            ),
            "{}",
            r.message
        );
        assert!(
            r.message.contains("in 1 of 2 running Pod(s) (e.g. cart-b)"),
            "{}",
            r.message
        );
    }

    #[test]
    fn non_root_fails_on_running_pods_that_differ_from_a_compliant_template() {
        // A webhook injected a privileged init container into the running Pods.
        let mut spec = good_pod_spec("cart");
        spec["initContainers"] = json!([{
            "name": "istio-init", "image": "registry.example.com/istio/proxyv2:1.22.0",
            "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}, "runAsUser": 0, "runAsNonRoot": false}
        }]);
        let s = pods_running(spec);
        assert!(
            s.deployments.items_or_empty()[0]
                .spec
                .as_ref()
                .and_then(|d| d.template.spec.as_ref())
                .is_some_and(|t| t.init_containers.is_none()),
            "the template has no init container"
        );
        let r = result_for(&s, CheckId::NonRoot, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        for needle in [
            "in 2 of 2 running Pod(s) (e.g. cart-a)",
            "initContainers[istio-init].securityContext.runAsNonRoot is false",
            "initContainers[istio-init].securityContext.runAsUser is 0",
            "initContainers[istio-init].securityContext.capabilities.add has NET_ADMIN, NET_RAW",
        ] {
            assert!(
                r.message.contains(needle),
                "missing {needle:?} in {}",
                r.message
            );
        }
    }

    #[test]
    fn image_fails_on_running_pods_that_differ_from_a_pinned_template() {
        // A webhook added an unpinned sidecar to the running Pods.
        let mut spec = good_pod_spec("cart");
        if let Some(c) = spec["containers"].as_array_mut() {
            c.push(json!({"name": "log-shipper", "image": "fluent/fluent-bit"}));
        }
        let s = pods_running(spec);
        let r = result_for(&s, CheckId::Image, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains("in 2 of 2 running Pod(s)"),
            "{}",
            r.message
        );
        assert!(
            r.message
                .contains("containers[log-shipper] image fluent/fluent-bit has no tag"),
            "{}",
            r.message
        );
        assert_eq!(
            result_for(
                &template_only(good_pod_spec("cart")),
                CheckId::Image,
                "cart"
            )
            .outcome,
            Outcome::Pass
        );
    }

    #[test]
    fn image_evidence_records_the_digests_the_running_pods_run() {
        let mut s = pods_running(good_pod_spec("cart"));
        let digest = |d: &str| format!("registry.example.com/shop/cart@sha256:{d}");
        let mut evicted = pod("cart-old", "cart", "n3", good_pod_spec("cart"));
        let status = |p: &mut Pod, phase: &str, d: &str| {
            p.status = Some(obj(json!({"phase": phase, "containerStatuses": [{
                "name": "cart", "image": "x", "imageID": digest(d), "ready": phase == "Running",
                "restartCount": 0,
            }]})));
        };
        status(&mut evicted, "Failed", "0ld");
        let Source::Read(pods) = &mut s.pods else {
            unreachable!()
        };
        for p in pods.iter_mut() {
            status(p, "Running", "new");
        }
        pods.push(evicted);
        let r = result_for(&s, CheckId::Image, "cart");
        assert_eq!(
            r.evidence.values["status.containerStatuses.imageID"],
            json!({"cart": [digest("new")]}),
            "{:?}",
            r.evidence.values
        );
    }

    #[test]
    fn a_token_volume_in_the_running_pods_fails_though_the_template_disables_it() {
        // The template says automountServiceAccountToken: false, but admission (or a webhook)
        // mounted the default account's token into the running Pods.
        let mut spec = good_pod_spec("cart");
        spec["volumes"] = json!([{"name": "kube-api-access-x7k2p", "projected": {"sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
        ]}}]);
        spec["containers"][0]["volumeMounts"] = json!([{
            "name": "kube-api-access-x7k2p", "readOnly": true,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"
        }]);
        spec["serviceAccountName"] = json!("default");
        let s = pods_running(spec);
        let r = result_for(&s, CheckId::ServiceAccount, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message
                .contains("default ServiceAccount (per the token volume of 2 of 2 running Pod(s) (e.g. cart-a))"),
            "{}",
            r.message
        );
        assert_eq!(
            r.evidence.values["pods_with_token_volume"],
            json!(["cart-a", "cart-b"])
        );
        assert!(
            r.evidence
                .objects
                .iter()
                .any(|o| o.kind == "Pod" && o.name == "cart-b"),
            "{:?}",
            r.evidence.objects
        );
        // The same template with Pods that carry no token passes.
        assert_eq!(
            result_for(&healthy_shop(), CheckId::ServiceAccount, "cart").outcome,
            Outcome::Pass
        );
    }

    #[test]
    fn the_service_account_admission_gave_the_pods_is_the_one_judged() {
        // The template names the dedicated account; a webhook switched the Pods to default.
        let mut template = good_pod_spec("cart");
        template["serviceAccountName"] = json!("cart");
        let mut running = template.clone();
        running["serviceAccountName"] = json!("default");
        running["containers"][0]["volumeMounts"] = json!([{
            "name": "token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount/"
        }]);
        running["volumes"] =
            json!([{"name": "token", "secret": {"secretName": "default-token-abcde"}}]);
        let mut s = pods_running(running);
        s.deployments = Source::Read(vec![deployment("cart", 2, template)]);
        let r = result_for(&s, CheckId::ServiceAccount, "cart");
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert_eq!(r.evidence.values["serviceAccountName"], json!("default"));
    }

    #[test]
    fn the_priority_class_admission_filled_in_is_judged_from_the_running_pods() {
        // The template names no class; admission gave the Pods the cluster's globalDefault.
        let mut template = good_pod_spec("cart");
        template
            .as_object_mut()
            .map(|m| m.remove("priorityClassName"));
        let mut running = template.clone();
        running["priorityClassName"] = json!("business");
        running["priority"] = json!(100000);
        let mut s = pods_running(running.clone());
        s.deployments = Source::Read(vec![deployment("cart", 2, template.clone())]);
        let r = result_for(&s, CheckId::QosPriority, "cart");
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.message);
        assert!(
            r.message.contains("globalDefault PriorityClass"),
            "{}",
            r.message
        );
        assert_eq!(r.evidence.values["pods.spec.priority"], json!([100000]));
        let strict = Params {
            priority_classes: vec!["business".into()],
            ..Params::default()
        };
        assert_eq!(
            result_with(&s, CheckId::QosPriority, "cart", strict.clone()).outcome,
            Outcome::Pass
        );
        // Judged from the template alone, the same workload only warns (and fails when a class
        // is required).
        let t = template_only(template);
        assert_eq!(
            result_for(&t, CheckId::QosPriority, "cart").outcome,
            Outcome::Warn
        );
        assert_eq!(
            result_with(&t, CheckId::QosPriority, "cart", strict.clone()).outcome,
            Outcome::Fail
        );
        // A webhook that lowered the running Pods' class below the required ones fails, though
        // the template names an accepted one.
        running["priorityClassName"] = json!("batch-low");
        let mut s = pods_running(running);
        s.deployments = Source::Read(vec![deployment("cart", 2, good_pod_spec("cart"))]);
        let r = result_with(&s, CheckId::QosPriority, "cart", strict);
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.message);
        assert!(
            r.message.contains(
                "priorityClassName batch-low is not one of business in 2 of 2 running Pod(s)"
            ),
            "{}",
            r.message
        );
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
