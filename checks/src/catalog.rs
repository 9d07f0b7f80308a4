//! What each automatic check is for, written for the application developers who must act on
//! it: why it matters, how the engine verifies it, what passes, and how to fix a failure.
//!
//! Plain static text, no Kubernetes types: the wasm UI shows it beside the results.

use crate::CheckId;

/// The explanation of one check, as shown in the checklist and beside a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    pub id: CheckId,
    /// A short title ("At least two replicas").
    pub title: &'static str,
    /// Why the check matters before production.
    pub why: &'static str,
    /// What the engine reads and how it decides.
    pub how_to_check: &'static str,
    /// The state that passes.
    pub desired: &'static str,
    /// What to change, naming the fields.
    pub how_to_fix: &'static str,
    /// The kinds of object the check is evaluated on.
    pub applies_to: &'static str,
}

const LONG_RUNNING: &str = "Deployments, StatefulSets and Argo Rollouts";
const ALL_WORKLOADS: &str =
    "Deployments, StatefulSets, DaemonSets, CronJobs, Jobs and Argo Rollouts";

/// The explanation of `id`.
pub fn info(id: CheckId) -> CheckInfo {
    let (title, why, how_to_check, desired, how_to_fix, applies_to) = match id {
        CheckId::Replicas => (
            "At least two replicas",
            "With a single Pod, every node reboot, eviction or crash is an outage. A second \
             replica keeps the service answering while the first one is restarted elsewhere.",
            "Reads spec.replicas and status.readyReplicas of the workload. When a \
             HorizontalPodAutoscaler targets the workload (spec.scaleTargetRef), its \
             spec.minReplicas is the effective minimum instead.",
            "The effective minimum is at least 2 (or the configured min_replicas) and at least \
             that many replicas are ready.",
            "Set spec.replicas >= 2, or give the HPA spec.minReplicas >= 2. If replicas are \
             configured but not ready, look at the Pods' events and readiness probes.",
            LONG_RUNNING,
        ),
        CheckId::Probes => (
            "Readiness, liveness and startup probes",
            "Without a readiness probe, traffic reaches Pods that are still starting or are \
             shutting down, so every rollout and node drain drops requests. A liveness probe \
             identical to the readiness probe restarts Pods that are merely busy.",
            "For every container (init containers excluded) of the pod template: a \
             readinessProbe exists, it is not identical to the livenessProbe, named probe ports \
             exist among the container's ports, and containers whose liveness probe waits 30 s \
             or more have a startupProbe.",
            "Every container has a readiness probe distinct from its liveness probe, probe ports \
             resolve, slow starters use a startup probe.",
            "Add containers[].readinessProbe (e.g. httpGet on a /ready endpoint that checks the \
             app can serve). Make livenessProbe cheaper or more tolerant (a /live endpoint, a \
             higher failureThreshold). Replace a long livenessProbe.initialDelaySeconds with a \
             startupProbe. Name probe ports in containers[].ports[].name.",
            "Deployments, StatefulSets, DaemonSets and Argo Rollouts",
        ),
        CheckId::Spread => (
            "Replicas spread over nodes and zones",
            "Two replicas on the same node go down together when that node is drained for \
             patching or fails. On a multi-zone cluster the same holds for a zone.",
            "Looks for topologySpreadConstraints or podAntiAffinity on kubernetes.io/hostname or \
             topology.kubernetes.io/zone in the pod template (either one is enough), and where \
             the running Pods actually are: spec.nodeName and the nodes' zone labels.",
            "The template asks for spreading, and the running Pods are on at least two nodes (and \
             two zones when the Pods could be scheduled in two or more: zones with a node that \
             takes new Pods, whose taints they tolerate and whose labels their nodeSelector and \
             required node affinity match).",
            "Add spec.template.spec.topologySpreadConstraints with topologyKey \
             kubernetes.io/hostname (and one for topology.kubernetes.io/zone) and a labelSelector \
             matching the Pods' labels, with at least 2 replicas. preferred podAntiAffinity works \
             too.",
            LONG_RUNNING,
        ),
        CheckId::Resources => (
            "CPU and memory requests, memory limit",
            "The scheduler places Pods by their requests: without them, nodes get overcommitted \
             and Pods are evicted first under pressure. Without a memory limit, one leaking Pod \
             can take the node's memory from everything else.",
            "For every container and init container: resources.requests.cpu, \
             resources.requests.memory and resources.limits.memory. A default from a LimitRange \
             of type Container in the namespace counts as set. Running Pods are judged when \
             present (they show what admission filled in), the template otherwise.",
            "Every container requests CPU and memory and has a memory limit.",
            "Set containers[].resources.requests.cpu, .requests.memory and .limits.memory (from \
             a load test: the steady-state usage plus headroom), or have the platform team set \
             a LimitRange default for the namespace.",
            ALL_WORKLOADS,
        ),
        CheckId::DrainCapacity => (
            "Capacity to drain any one node",
            "Node patching drains one node after another. If the Pods of a drained node fit \
             nowhere else, they stay Pending and the application runs degraded until the node \
             returns.",
            "For each node, drains it on paper: every Pod of the application on it (all its \
             workloads together; DaemonSet Pods stay, and Job Pods, which can wait for room, are \
             not counted) is placed, largest first, by its \
             CPU, memory and Pod-count requests, onto the free allocatable capacity of the \
             other nodes it may run on: schedulable, with taints it tolerates, matching its \
             nodeSelector and required node affinity, and away from siblings its required \
             anti-affinity avoids. What other namespaces' Pods request is counted when the \
             cluster is read live.",
            "The workload's Pods run on more than one node and the Pods of any one node fit on \
             the remaining nodes.",
            "Spread the replicas (see the spread check), lower over-generous requests, or ask \
             the platform team for more node capacity or a cluster autoscaler.",
            LONG_RUNNING,
        ),
        CheckId::DisruptionBudget => (
            "Disruption budget that allows node drains",
            "A PodDisruptionBudget that allows zero disruptions makes `kubectl drain` wait \
             forever, so the platform team cannot patch the node until someone intervenes.",
            "Finds the PodDisruptionBudgets whose selector matches the workload's Pods and reads \
             status.disruptionsAllowed, or computes it from minAvailable/maxUnavailable and the \
             replica count when there is no status. A Pod covered by two PDBs cannot be evicted \
             at all.",
            "No PDB, or exactly one PDB that allows at least one disruption.",
            "Use spec.maxUnavailable: 1 instead of a minAvailable equal to the replica count, or \
             raise spec.replicas above minAvailable. Set spec.unhealthyPodEvictionPolicy: \
             AlwaysAllow so crash-looping Pods never block a drain.",
            "Deployments, StatefulSets and Argo Rollouts (a DaemonSet's Pods are not moved by a \
             drain, so this does not apply to them)",
        ),
        CheckId::GracefulShutdown => (
            "Graceful, bounded shutdown",
            "Every Pod on a drained node gets up to its grace period to stop. Long grace periods \
             multiply the time each node's maintenance takes; no shutdown handling drops \
             in-flight requests.",
            "Reads spec.terminationGracePeriodSeconds (Kubernetes default 30) and, for each \
             container, lifecycle.preStop and readinessProbe.",
            "The grace period is at most 120 s (or the configured maximum), and containers \
             either have a preStop hook or a readiness probe so traffic drains before exit.",
            "Lower spec.template.spec.terminationGracePeriodSeconds and make the app handle \
             SIGTERM: stop accepting, finish in-flight work, exit. Add \
             containers[].lifecycle.preStop (e.g. a short sleep) so endpoints are removed \
             before the process stops.",
            ALL_WORKLOADS,
        ),
        CheckId::Rollout => (
            "Rolling updates",
            "The Recreate strategy (and OnDelete) stops all old Pods before new ones start, or \
             never replaces them: each deploy is an outage or a silent no-op.",
            "Reads the Deployment's spec.strategy, the StatefulSet's and DaemonSet's \
             spec.updateStrategy and their maxUnavailable, against the fewest replicas the \
             workload may run (the HPA's minReplicas, else spec.replicas); Argo Rollouts use \
             canary or blue-green and pass.",
            "A rolling strategy whose maxUnavailable leaves at least one Pod running.",
            "Set spec.strategy.type: RollingUpdate (Deployment) or spec.updateStrategy.type: \
             RollingUpdate (StatefulSet, DaemonSet), with maxUnavailable below the replica count \
             (e.g. 0 with maxSurge: 1 for a Deployment).",
            "Deployments, StatefulSets, DaemonSets and Argo Rollouts",
        ),
        CheckId::NonRoot => (
            "Restricted security context",
            "A container running as root with privilege escalation, extra capabilities or host \
             namespaces turns an application bug into a node compromise.",
            "For the Pods (running Pods when present, else the template) and every container: \
             runAsNonRoot true and runAsUser not 0, allowPrivilegeEscalation false, not \
             privileged, capabilities drop ALL (only NET_BIND_SERVICE may be added), seccomp \
             RuntimeDefault or Localhost, AppArmor not unconfined, no custom SELinux user or \
             role, procMount Default, only safe sysctls, no host ports, volumes of the \
             restricted kinds only (no hostPath), no hostNetwork/hostPID/hostIPC.",
            "Every container meets the Kubernetes restricted Pod Security profile.",
            "In spec.template.spec.securityContext set runAsNonRoot: true and seccompProfile.type: \
             RuntimeDefault; in each containers[].securityContext set \
             allowPrivilegeEscalation: false and capabilities.drop: [ALL]. Build the image with a \
             numeric non-root USER. Replace hostPath volumes with emptyDir or a PVC.",
            ALL_WORKLOADS,
        ),
        CheckId::NetworkPolicy => (
            "Ingress NetworkPolicy",
            "Without a NetworkPolicy every Pod in the cluster can reach the application, so one \
             compromised workload anywhere can probe it.",
            "For each running Pod (or the template labels when none run): is it selected by a \
             NetworkPolicy in its namespace that covers Ingress (policyTypes contains Ingress, \
             or policyTypes is absent)? An empty podSelector selects every Pod of the namespace.",
            "Every Pod is selected by at least one Ingress NetworkPolicy.",
            "Add a NetworkPolicy with spec.podSelector matching the Pods' labels (or {} for the \
             whole namespace), policyTypes: [Ingress] and ingress rules allowing only the \
             expected callers.",
            ALL_WORKLOADS,
        ),
        CheckId::Image => (
            "Pinned images from allowed registries",
            "A mutable tag like latest makes redeploys and rollbacks pull different code than was \
             tested; images from unknown registries bypass scanning and signing.",
            "Parses every container image: it must carry a tag other than latest, or a digest \
             (@sha256:...). When allowed registries are configured, the image's registry and \
             path must start with one of them (short Docker Hub names are expanded, nginx => \
             docker.io/library/nginx). Running Pods' imageIDs are recorded as evidence.",
            "Every image is pinned and comes from an allowed registry.",
            "Use containers[].image: registry.example.com/team/app:1.4.2 or pin a digest \
             (app@sha256:...), set by your CI pipeline; mirror third-party images into an \
             allowed registry.",
            ALL_WORKLOADS,
        ),
        CheckId::QosPriority => (
            "QoS class and priority",
            "Under node pressure Kubernetes evicts BestEffort and Burstable Pods first and lets \
             higher-priority Pods preempt lower ones. Critical services need to say so.",
            "Reads priorityClassName and priority from the running Pods (admission fills in \
             the cluster's default class), else from the template, and, when Guaranteed QoS is \
             required, compares every container's requests with its limits for CPU and memory.",
            "priorityClassName is set (and one of the accepted classes when configured); with \
             require_guaranteed, requests equal limits for CPU and memory everywhere.",
            "Set spec.template.spec.priorityClassName to a class the platform team offers; for \
             Guaranteed QoS set containers[].resources.limits equal to .requests for cpu and \
             memory.",
            ALL_WORKLOADS,
        ),
        CheckId::ServiceAccount => (
            "No API token unless needed",
            "Every Pod gets a Kubernetes API token by default. An attacker in the container can \
             use it against the API server; most applications never call the API.",
            "Reads automountServiceAccountToken on the pod spec, then on the ServiceAccount used \
             (spec.serviceAccountName, default `default`); running Pods show a kube-api-access \
             volume when a token is mounted.",
            "No token is mounted, or it is mounted for a dedicated (non-default) ServiceAccount \
             that needs it.",
            "Set spec.template.spec.automountServiceAccountToken: false, or \
             automountServiceAccountToken: false on the ServiceAccount. If the app calls the \
             API, give it its own ServiceAccount with minimal RBAC.",
            ALL_WORKLOADS,
        ),
        CheckId::MetricsAlerts => (
            "Metrics scraped and alerts defined",
            "Without metrics and alerts, the team learns about an outage from its users.",
            "With the Prometheus Operator installed: a ServiceMonitor selecting a Service that \
             selects the workload's Pods, or a PodMonitor selecting the Pods (honouring \
             namespaceSelector), and a PrometheusRule in the namespace with at least one alert.",
            "The Pods are scraped and the namespace has at least one alerting rule.",
            "Expose /metrics, add a ServiceMonitor (spec.selector matching the Service's labels, \
             spec.endpoints naming the port) or a PodMonitor, and a PrometheusRule with \
             spec.groups[].rules[].alert for the symptoms users notice (errors, latency).",
            "Deployments, StatefulSets, DaemonSets and Argo Rollouts",
        ),
        CheckId::Backups => (
            "Recent backup of the namespace",
            "A restore needs a backup: the recovery point objective (RPO) is only met if backups \
             run and succeed.",
            "With Velero installed: a Schedule whose spec.template.includedNamespaces covers the \
             namespace (empty or * means all) and excludedNamespaces does not, and the newest \
             Completed Backup covering it finished within the RPO.",
            "The namespace is covered by a Velero Schedule and its last completed backup is \
             younger than the RPO (24 h by default).",
            "Ask the platform team to add the namespace to a Velero Schedule \
             (spec.template.includedNamespaces); if backups fail, read the Backup's \
             status.failureReason and the Velero logs.",
            "Namespaces",
        ),
        CheckId::Tls => (
            "TLS with a certificate that is not expiring",
            "Plain HTTP exposes credentials and data; an expired certificate is an outage.",
            "For the Ingresses routing to Services that select the workload's Pods: every \
             spec.rules[].host is covered by spec.tls[].hosts; with cert-manager installed, the \
             Certificate writing each TLS secret is Ready and its status.notAfter is far enough \
             away.",
            "Every host has TLS and its certificate is Ready and valid for more than 14 days (or \
             the configured minimum).",
            "Add spec.tls with the hosts and a secretName, e.g. with the annotation \
             cert-manager.io/cluster-issuer so cert-manager issues and renews it; if renewal is \
             stuck, read the Certificate's and CertificateRequest's status.",
            "Workloads reached through an Ingress",
        ),
    };
    CheckInfo {
        id,
        title,
        why,
        how_to_check,
        desired,
        how_to_fix,
        applies_to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_complete_text() {
        for id in CheckId::ALL {
            let i = info(id);
            assert_eq!(i.id, id);
            for text in [
                i.title,
                i.why,
                i.how_to_check,
                i.desired,
                i.how_to_fix,
                i.applies_to,
            ] {
                assert!(!text.trim().is_empty(), "{id} has an empty field");
            }
        }
    }
}
