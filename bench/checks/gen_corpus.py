#!/usr/bin/env python3
"""Writes the manifest corpora of the go-live check benchmarks (deterministic for a seed; only
the Python standard library).

  gen_corpus.py peer    OUT [--files N] [--seed S]
      N files (default 240), each one workload (Deployment, StatefulSet, DaemonSet or CronJob)
      with a random mix of the variations the overlapping checkov CKV_K8S checks look at:
      probes present/missing/identical, requests/limits missing, privileged, runAsNonRoot, root
      user, allowPrivilegeEscalation, capabilities, image :latest/no tag/digest,
      hostNetwork/hostPID/hostIPC, hostPath, automountServiceAccountToken, seccomp. OUT-index.json
      lists the variations of each file (used to explain disagreements).

  gen_corpus.py cluster OUT [--namespaces N] [--workloads-per-namespace W] [--nodes K] [--seed S]
      A synthetic cluster as manifest files in one folder: N namespaces (1,000), W workloads per
      namespace (10) with their Pods (about 2.5 per workload, bound to Nodes), K Nodes (100) in
      3 zones, PDBs, HPAs, Services and NetworkPolicies. One file per namespace plus nodes.yaml.

Manifests are written as JSON-compatible YAML (flow style), which every YAML reader accepts.
"""

import argparse
import json
import os
import random
import shutil
import sys


def dump(docs):
    """Documents as a YAML stream; each document is JSON, i.e. YAML flow style."""
    return "".join("---\n" + json.dumps(d, indent=1, sort_keys=False) + "\n" for d in docs)


# ---------------------------------------------------------------------------------------------
# Peer corpus


def peer_workload(rng, i):
    v = {}  # variation name -> value, for index.json
    kind = rng.choices(
        ["Deployment", "StatefulSet", "DaemonSet", "CronJob"], weights=[50, 20, 15, 15]
    )[0]
    v["kind"] = kind
    name = f"app-{i:03d}"
    labels = {"app": name}

    # Image
    image_variant = rng.choices(
        ["tag", "latest", "none", "digest", "tag+digest"], weights=[50, 15, 10, 15, 10]
    )[0]
    v["image"] = image_variant
    digest = "sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64))
    image = {
        "tag": f"registry.example.com/team/{name}:1.{i % 7}.{i % 5}",
        "latest": f"registry.example.com/team/{name}:latest",
        "none": f"registry.example.com/team/{name}",
        "digest": f"registry.example.com/team/{name}@{digest}",
        "tag+digest": f"registry.example.com/team/{name}:2.0.1@{digest}",
    }[image_variant]

    container = {
        "name": "app",
        "image": image,
        "ports": [{"name": "http", "containerPort": 8080}],
    }

    # Probes
    readiness = rng.random() < 0.7
    liveness = rng.choices(["distinct", "missing", "identical"], weights=[55, 30, 15])[0]
    if not readiness and liveness == "identical":
        liveness = "distinct"
    v["readiness"] = readiness
    v["liveness"] = liveness
    ready_probe = {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5}
    if readiness:
        container["readinessProbe"] = ready_probe
    if liveness == "distinct":
        container["livenessProbe"] = {"httpGet": {"path": "/live", "port": "http"}, "periodSeconds": 10}
    elif liveness == "identical":
        container["livenessProbe"] = json.loads(json.dumps(ready_probe))

    # Resources
    res = {}
    for key, p in [("cpu_request", 0.8), ("memory_request", 0.8), ("memory_limit", 0.75), ("cpu_limit", 0.5)]:
        v[key] = rng.random() < p
    if v["cpu_request"]:
        res.setdefault("requests", {})["cpu"] = "100m"
    if v["memory_request"]:
        res.setdefault("requests", {})["memory"] = "128Mi"
    if v["memory_limit"]:
        res.setdefault("limits", {})["memory"] = "256Mi"
    if v["cpu_limit"]:
        res.setdefault("limits", {})["cpu"] = "500m"
    if res:
        container["resources"] = res

    # Security context: a "hardened" baseline most of the time, then individual weaknesses.
    hardened = rng.random() < 0.45
    v["hardened_baseline"] = hardened
    pod_sc = {}
    sc = {}
    if hardened:
        pod_sc = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
        sc = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True}
    weaknesses = []
    if rng.random() < 0.5:
        weaknesses = rng.sample(
            [
                "privileged",
                "allow_privilege_escalation",
                "run_as_root",
                "uid_1000",
                "no_run_as_non_root",
                "add_net_admin",
                "add_sys_admin",
                "drop_net_raw_only",
                "no_drop",
                "seccomp_unconfined",
                "no_seccomp",
                "seccomp_container_level",
                "host_network",
                "host_pid",
                "host_ipc",
                "docker_socket",
                "container_root_override",
                "container_run_as_non_root_false",
                "add_net_bind_service",
                "seccomp_localhost",
                "init_privileged",
                "init_without_resources",
                "registry_port_no_tag",
            ],
            rng.choice([1, 1, 1, 2]),
        )
    v["weaknesses"] = weaknesses
    for w in weaknesses:
        if w == "privileged":
            sc["privileged"] = True
        elif w == "allow_privilege_escalation":
            sc["allowPrivilegeEscalation"] = True
        elif w == "run_as_root":
            pod_sc.pop("runAsNonRoot", None)
            sc["runAsUser"] = 0
        elif w == "uid_1000":
            pod_sc["runAsUser"] = 1000
        elif w == "no_run_as_non_root":
            pod_sc.pop("runAsNonRoot", None)
            pod_sc.pop("runAsUser", None)
        elif w == "add_net_admin":
            sc.setdefault("capabilities", {})["add"] = ["NET_ADMIN"]
        elif w == "add_sys_admin":
            sc.setdefault("capabilities", {})["add"] = ["SYS_ADMIN"]
        elif w == "drop_net_raw_only":
            sc["capabilities"] = {"drop": ["NET_RAW"]}
        elif w == "no_drop":
            sc.pop("capabilities", None)
        elif w == "seccomp_unconfined":
            pod_sc["seccompProfile"] = {"type": "Unconfined"}
        elif w == "no_seccomp":
            pod_sc.pop("seccompProfile", None)
        elif w == "seccomp_container_level":
            pod_sc.pop("seccompProfile", None)
            sc["seccompProfile"] = {"type": "RuntimeDefault"}
        elif w == "container_root_override":
            sc["runAsUser"] = 0
        elif w == "container_run_as_non_root_false":
            sc["runAsNonRoot"] = False
        elif w == "add_net_bind_service":
            sc["capabilities"] = {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
        elif w == "seccomp_localhost":
            pod_sc["seccompProfile"] = {"type": "Localhost", "localhostProfile": "profiles/app.json"}
        elif w == "registry_port_no_tag":
            container["image"] = f"registry.example.com:5000/team/{name}"
            v["image"] = "none (registry with port)"
    if sc:
        container["securityContext"] = sc

    pod_spec = {"containers": [container]}
    if "init_privileged" in weaknesses or "init_without_resources" in weaknesses:
        init = {"name": "migrate", "image": container["image"], "command": ["/migrate"]}
        if "init_privileged" in weaknesses:
            init["securityContext"] = {"privileged": True}
        else:
            init["securityContext"] = json.loads(json.dumps(sc))
            if pod_sc.get("runAsNonRoot"):
                init["securityContext"]["runAsNonRoot"] = True
        if "init_without_resources" not in weaknesses and "resources" in container:
            init["resources"] = container["resources"]
        pod_spec["initContainers"] = [init]
    if pod_sc:
        pod_spec["securityContext"] = pod_sc
    if "host_network" in weaknesses:
        pod_spec["hostNetwork"] = True
    if "host_pid" in weaknesses:
        pod_spec["hostPID"] = True
    if "host_ipc" in weaknesses:
        pod_spec["hostIPC"] = True
    if "docker_socket" in weaknesses:
        pod_spec["volumes"] = [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]
        container["volumeMounts"] = [{"name": "docker", "mountPath": "/var/run/docker.sock"}]

    # A sidecar now and then: every container must satisfy the checks.
    if rng.random() < 0.15:
        sidecar = json.loads(json.dumps(container))
        sidecar["name"] = "proxy"
        sidecar["ports"] = [{"name": "admin", "containerPort": 9901}]
        for probe in ("readinessProbe", "livenessProbe"):
            if probe in sidecar:
                sidecar[probe]["httpGet"]["port"] = "admin"
        if rng.random() < 0.5:
            sidecar.pop("resources", None)
            v["sidecar_without_resources"] = True
        pod_spec["containers"].append(sidecar)
        v["sidecar"] = True

    token = rng.choices(["false", "missing", "true"], weights=[45, 45, 10])[0]
    v["automount_token"] = token
    if token == "false":
        pod_spec["automountServiceAccountToken"] = False
    elif token == "true":
        pod_spec["automountServiceAccountToken"] = True
    if rng.random() < 0.5:
        pod_spec["serviceAccountName"] = name
        v["service_account"] = name

    template = {"metadata": {"labels": labels}, "spec": pod_spec}
    meta = {"name": name, "namespace": f"team-{i % 6}", "labels": labels}
    if kind == "Deployment":
        spec = {"replicas": rng.choice([1, 2, 3]), "selector": {"matchLabels": labels}, "template": template}
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}, v
    if kind == "StatefulSet":
        spec = {"replicas": rng.choice([1, 3]), "serviceName": name, "selector": {"matchLabels": labels}, "template": template}
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}, v
    if kind == "DaemonSet":
        spec = {"selector": {"matchLabels": labels}, "template": template}
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}, v
    pod_spec["restartPolicy"] = "OnFailure"
    spec = {"schedule": "*/15 * * * *", "jobTemplate": {"spec": {"template": template}}}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec}, v


def write_peer(out, files, seed):
    rng = random.Random(seed)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    index = {}
    for i in range(files):
        obj, variations = peer_workload(rng, i)
        fname = f"{i:03d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        with open(os.path.join(out, fname), "w") as f:
            f.write(dump([obj]))
        index[fname] = variations
    # Beside the folder, not in it: the readers would take it for a manifest.
    with open(out.rstrip("/") + "-index.json", "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
    print(f"wrote {files} manifest files to {out}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Synthetic cluster


def write_cluster(out, namespaces, per_ns, nodes, seed):
    rng = random.Random(seed)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    zones = ["zone-a", "zone-b", "zone-c"]
    node_names = [f"node-{n:03d}" for n in range(nodes)]
    node_docs = []
    for n, node in enumerate(node_names):
        zone = zones[n % len(zones)]
        node_docs.append({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": node,
                "labels": {
                    "kubernetes.io/hostname": node,
                    "topology.kubernetes.io/zone": zone,
                    "node-role.kubernetes.io/worker": "",
                },
            },
            "spec": {"unschedulable": n == 7},
            "status": {
                "allocatable": {"cpu": "15800m", "memory": "62Gi", "pods": "500"},
                "capacity": {"cpu": "16", "memory": "64Gi", "pods": "500"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        })
    with open(os.path.join(out, "nodes.yaml"), "w") as f:
        f.write(dump(node_docs))

    totals = {"workloads": 0, "pods": 0, "objects": nodes}
    for ns_i in range(namespaces):
        ns = f"team-{ns_i:04d}"
        docs = [{
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
        }]
        if rng.random() < 0.7:
            docs.append({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": ns},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
            })
        kinds = ["Deployment"] * 6 + ["StatefulSet"] * 2 + ["CronJob", "DaemonSet"]
        for w in range(per_ns):
            kind = kinds[w % len(kinds)]
            name = f"{kind.lower()}-{w:02d}"
            labels = {"app": name, "app.kubernetes.io/part-of": ns}
            container = {
                "name": "app",
                "image": f"registry.example.com/{ns}/{name}:1.{w}.0" if rng.random() < 0.9 else f"nginx:latest",
                "ports": [{"name": "http", "containerPort": 8080}],
                "resources": {
                    "requests": {"cpu": rng.choice(["10m", "25m", "50m"]), "memory": rng.choice(["64Mi", "128Mi", "256Mi"])},
                    "limits": {"memory": "1Gi"},
                } if rng.random() < 0.85 else {},
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
            if rng.random() < 0.8:
                container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}}
                container["livenessProbe"] = {"httpGet": {"path": "/live", "port": "http"}, "failureThreshold": 5}
            pod_spec = {
                "containers": [container],
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                "terminationGracePeriodSeconds": rng.choice([30, 30, 60, 600]),
                "automountServiceAccountToken": rng.random() < 0.3,
            }
            if rng.random() < 0.5:
                pod_spec["topologySpreadConstraints"] = [{
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"app": name}},
                }]
            template = {"metadata": {"labels": labels}, "spec": pod_spec}
            meta = {"name": name, "namespace": ns, "labels": labels, "uid": f"{ns}-{name}"}
            replicas = 0
            if kind == "Deployment":
                replicas = rng.choice([1, 2, 3, 3, 4])
                obj = {
                    "apiVersion": "apps/v1", "kind": kind, "metadata": meta,
                    "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template,
                             "strategy": {"type": "RollingUpdate"} if rng.random() < 0.9 else {"type": "Recreate"}},
                    "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
                }
            elif kind == "StatefulSet":
                replicas = rng.choice([2, 3])
                obj = {
                    "apiVersion": "apps/v1", "kind": kind, "metadata": meta,
                    "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": labels}, "template": template},
                    "status": {"replicas": replicas, "readyReplicas": replicas},
                }
            elif kind == "DaemonSet":
                pod_spec["nodeSelector"] = {"kubernetes.io/hostname": "pinned"}
                replicas = 4
                obj = {
                    "apiVersion": "apps/v1", "kind": kind, "metadata": meta,
                    "spec": {"selector": {"matchLabels": labels}, "template": template},
                    "status": {"desiredNumberScheduled": 4, "numberReady": 4},
                }
            else:
                pod_spec["restartPolicy"] = "OnFailure"
                obj = {
                    "apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                    "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}},
                }
            docs.append(obj)
            totals["workloads"] += 1
            if kind in ("Deployment", "StatefulSet"):
                docs.append({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": "http"}]},
                })
                if rng.random() < 0.6:
                    allowed = rng.choice([0, 1, 1])
                    docs.append({
                        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {"maxUnavailable": 1} if allowed else {"minAvailable": replicas},
                        "status": {"disruptionsAllowed": allowed, "currentHealthy": replicas,
                                   "desiredHealthy": replicas - allowed, "expectedPods": replicas},
                    })
                if kind == "Deployment" and rng.random() < 0.2:
                    docs.append({
                        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                                 "minReplicas": rng.choice([1, 2, 3]), "maxReplicas": 10},
                    })
            # Pods, bound to nodes (some replicas land on the same node).
            owner_kind = {"Deployment": "ReplicaSet", "StatefulSet": "StatefulSet", "DaemonSet": "DaemonSet"}.get(kind)
            owner_name = f"{name}-7d9f8b6c5" if kind == "Deployment" else name
            for p in range(replicas):
                pod_labels = dict(labels)
                if kind == "Deployment":
                    pod_labels["pod-template-hash"] = "7d9f8b6c5"
                pod_name = f"{owner_name}-{p}" if kind != "Deployment" else f"{owner_name}-{rng.randrange(16**5):05x}"
                spec = json.loads(json.dumps(pod_spec))
                spec.pop("nodeSelector", None)
                spec["nodeName"] = rng.choice(node_names)
                docs.append({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {
                        "name": pod_name, "namespace": ns, "labels": pod_labels,
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner_kind, "name": owner_name,
                                             "uid": f"{ns}-{owner_name}", "controller": True}],
                    },
                    "spec": spec,
                    "status": {"phase": "Running", "qosClass": "Burstable",
                               "conditions": [{"type": "Ready", "status": "True"}]},
                })
                totals["pods"] += 1
        totals["objects"] += len(docs)
        with open(os.path.join(out, f"{ns}.yaml"), "w") as f:
            f.write(dump(docs))
    print(
        f"wrote a synthetic cluster to {out}: {namespaces} namespaces, {totals['workloads']} workloads, "
        f"{totals['pods']} pods, {nodes} nodes, {totals['objects']} objects",
        file=sys.stderr,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("peer")
    p.add_argument("out")
    p.add_argument("--files", type=int, default=240)
    p.add_argument("--seed", type=int, default=42)
    c = sub.add_parser("cluster")
    c.add_argument("out")
    c.add_argument("--namespaces", type=int, default=1000)
    c.add_argument("--workloads-per-namespace", type=int, default=10)
    c.add_argument("--nodes", type=int, default=100)
    c.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    if a.what == "peer":
        write_peer(a.out, a.files, a.seed)
    else:
        write_cluster(a.out, a.namespaces, a.workloads_per_namespace, a.nodes, a.seed)


if __name__ == "__main__":
    main()
