#!/usr/bin/env python3
"""Compares Demarc's go-live checks with checkov's overlapping Kubernetes checks, per
(manifest file, Demarc check), and prints the agreement per check and overall with every
disagreement and its reason category.

  compare.py --checkov CHECKOV.json --demarc DEMARC.json [--index CORPUS-index.json] [--markdown]

CHECKOV.json: `checkov -d CORPUS --framework kubernetes -o json` (passed and failed checks).
DEMARC.json:  `server check CORPUS --format json` (results carry origin.file).
The corpus holds one workload per file (bench/checks/gen_corpus.py peer), so a file names the
workload.

The mapping (MAPPING below) splits checkov's ids per Demarc check in two:
  same:   the same requirement; a difference is a disagreement to explain.
  beyond: checkov asks for more than Demarc does on purpose (liveness probes, CPU limits, image
          digests, UIDs >= 10000); counted separately, never as disagreements.
checkov's verdict for a (file, check) is FAIL when any `same` id fails, PASS when at least one
was evaluated and none failed, and absent otherwise; Demarc's is FAIL for fail, PASS for pass or
warn, absent for not_applicable or error. Only pairs where both answered are compared.
"""

import argparse
import collections
import json
import os
import sys

MAPPING = {
    "probes": {"same": ["CKV_K8S_9"], "beyond": ["CKV_K8S_8"]},
    "resources": {"same": ["CKV_K8S_10", "CKV_K8S_12", "CKV_K8S_13"], "beyond": ["CKV_K8S_11"]},
    "image": {"same": ["CKV_K8S_14"], "beyond": ["CKV_K8S_43"]},
    "non_root": {
        "same": [
            "CKV_K8S_16",  # privileged
            "CKV_K8S_17",  # hostPID
            "CKV_K8S_18",  # hostIPC
            "CKV_K8S_19",  # hostNetwork
            "CKV_K8S_20",  # allowPrivilegeEscalation
            "CKV_K8S_23",  # root containers (runAsNonRoot / runAsUser)
            "CKV_K8S_25",  # added capabilities
            "CKV_K8S_27",  # docker socket hostPath
            "CKV_K8S_28",  # NET_RAW dropped
            "CKV_K8S_31",  # seccomp RuntimeDefault
            "CKV_K8S_37",  # capabilities: drop ALL
            "CKV_K8S_39",  # SYS_ADMIN
        ],
        "beyond": ["CKV_K8S_40"],  # UID >= 10000
    },
    "service_account": {"same": ["CKV_K8S_38"], "beyond": []},
}

ALL_IDS = sorted({i for m in MAPPING.values() for i in m["same"] + m["beyond"]}, key=lambda s: int(s.split("_")[2]))


# Known reasons for a disagreement, tried in order: (check, direction, test on the file's
# variations / checkov verdicts, kind of difference, explanation). "direction" is "checkov" when
# checkov fails and Demarc passes, "demarc" for the reverse.
def _request_defaults_to_limit(v, failed):
    return ("CKV_K8S_10" in failed and not v.get("cpu_request") and v.get("cpu_limit")) or (
        "CKV_K8S_12" in failed and not v.get("memory_request") and v.get("memory_limit"))


REASONS = [
    ("probes", "demarc", lambda v, failed, ck: v.get("liveness") == "identical",
     "deliberate", "Demarc also fails a livenessProbe identical to the readinessProbe (a busy Pod is restarted "
     "instead of being taken out of the Service); checkov only asks that a readiness probe exists"),
    ("resources", "checkov", lambda v, failed, ck: all(
        (i == "CKV_K8S_10" and not v.get("cpu_request") and v.get("cpu_limit"))
        or (i == "CKV_K8S_12" and not v.get("memory_request") and v.get("memory_limit"))
        for i in failed),
     "checkov false positive", "a request left out defaults to the limit (Kubernetes API defaulting), so the "
     "container does have a request; checkov reads the manifest literally"),
    ("resources", "demarc", lambda v, failed, ck: not (v.get("cpu_request") or v.get("memory_request"))
        and not ck.get("CKV_K8S_10") and not ck.get("CKV_K8S_12"),
     "checkov gap", "checkov answers neither CKV_K8S_10 nor CKV_K8S_12 (UNKNOWN, not reported) when "
     "resources.requests is absent; Demarc fails the missing CPU request"),
    ("service_account", "checkov", lambda v, failed, ck: v.get("automount_token") in ("missing", "true")
        and v.get("service_account"),
     "deliberate", "Demarc warns (does not fail) when the API token of a dedicated ServiceAccount is mounted: it "
     "is needed by apps that call the Kubernetes API, so the go-live review decides; checkov fails it (the "
     "namespace's default account's token fails in both)"),
    ("non_root", "checkov", lambda v, failed, ck: failed == ["CKV_K8S_25"] and "add_net_bind_service" in v.get("weaknesses", []),
     "deliberate", "the restricted Pod Security profile allows adding NET_BIND_SERVICE (after dropping ALL); "
     "CKV_K8S_25 fails any added capability"),
    ("non_root", "checkov", lambda v, failed, ck: failed == ["CKV_K8S_31"] and "seccomp_localhost" in v.get("weaknesses", []),
     "deliberate", "the restricted profile accepts a Localhost seccomp profile; CKV_K8S_31 accepts only RuntimeDefault"),
    ("non_root", "demarc", lambda v, failed, ck: "container_root_override" in v.get("weaknesses", []),
     "checkov false negative", "a container sets runAsUser: 0 while the pod sets runAsNonRoot: true; CKV_K8S_23 "
     "looks at the container's runAsUser only when its runAsNonRoot is explicitly false"),
    ("non_root", "checkov", lambda v, failed, ck: failed == ["CKV_K8S_23"] and "container_run_as_non_root_false" in v.get("weaknesses", []),
     "Demarc bug (reported)", "a container sets runAsNonRoot: false under a pod with runAsNonRoot: true and a "
     "non-zero runAsUser; the restricted profile forbids runAsNonRoot: false, Demarc accepts it because a UID is set"),
    ("non_root", "checkov", lambda v, failed, ck: failed == ["CKV_K8S_31"] and v.get("kind") == "CronJob"
        and "seccomp_container_level" in v.get("weaknesses", []),
     "checkov false positive", "CKV_K8S_31 reads only the seccomp annotations of a CronJob, not "
     "securityContext.seccompProfile (here set per container)"),
]


def categorize(check, theirs, failed, outcome, v, ck):
    direction = "checkov" if theirs == "FAIL" else "demarc"
    for r_check, r_dir, test, kind, text in REASONS:
        if r_check == check and r_dir == direction and test(v, failed, ck):
            return f"[{kind}] {text}"
    if direction == "checkov":
        return f"[unexplained] checkov fails {'+'.join(failed)}, Demarc {outcome}"
    return f"[unexplained] Demarc fails, checkov passes"


def load_checkov(path):
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, list):  # several frameworks
        data = next(d for d in data if d.get("check_type") == "kubernetes")
    verdicts = collections.defaultdict(dict)  # file -> ckv id -> PASSED/FAILED
    for key in ("passed_checks", "failed_checks"):
        for r in data["results"].get(key, []):
            if not r["resource"].split(".")[0] in ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"):
                continue
            verdicts[os.path.basename(r["file_path"])][r["check_id"]] = r["check_result"]["result"]
    return verdicts


def load_demarc(path):
    with open(path) as f:
        data = json.load(f)
    out = collections.defaultdict(dict)  # file -> check -> (outcome, message)
    for r in data["results"]:
        origin = r.get("origin")
        if not origin:
            continue
        out[os.path.basename(origin["file"])][r["check"]] = (r["outcome"], r["message"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkov", required=True)
    ap.add_argument("--demarc", required=True)
    ap.add_argument("--index")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument("--summary-json", help="also write the figures as JSON here")
    a = ap.parse_args()
    ckv = load_checkov(a.checkov)
    ours = load_demarc(a.demarc)
    index = json.load(open(a.index)) if a.index else {}

    files = sorted(set(ckv) | set(ours))
    per_check = {c: collections.Counter() for c in MAPPING}
    disagreements = []
    beyond = collections.Counter()
    for fname in files:
        for check, m in MAPPING.items():
            same = {i: ckv.get(fname, {}).get(i) for i in m["same"]}
            evaluated = [i for i, v in same.items() if v]
            failed = [i for i, v in same.items() if v == "FAILED"]
            theirs = None if not evaluated else ("FAIL" if failed else "PASS")
            outcome, message = ours.get(fname, {}).get(check, (None, ""))
            mine = {"fail": "FAIL", "pass": "PASS", "warn": "PASS"}.get(outcome)
            for i in m["beyond"]:
                if ckv.get(fname, {}).get(i) == "FAILED" and mine == "PASS":
                    beyond[(check, i)] += 1
            if theirs is None or mine is None:
                per_check[check]["not compared: " + ("checkov n/a" if theirs is None else f"demarc {outcome}")] += 1
                continue
            per_check[check]["compared"] += 1
            if theirs == mine:
                per_check[check]["agree"] += 1
                continue
            v = index.get(fname, {})
            category = categorize(check, theirs, failed, outcome, v, ckv.get(fname, {}))
            disagreements.append((check, fname, theirs, failed, outcome, message, category, index.get(fname, {})))

    md = a.markdown
    total_c = sum(c["compared"] for c in per_check.values())
    total_a = sum(c["agree"] for c in per_check.values())
    print("| Demarc check | checkov ids (same requirement) | compared | agree | agreement |" if md else
          f"{'check':<16} {'compared':>8} {'agree':>6} {'rate':>7}  checkov ids")
    if md:
        print("|---|---|---:|---:|---:|")
    for check, c in per_check.items():
        rate = 100.0 * c["agree"] / c["compared"] if c["compared"] else float("nan")
        ids = ", ".join(MAPPING[check]["same"])
        if md:
            print(f"| {check} | {ids} | {c['compared']} | {c['agree']} | {rate:.1f} % |")
        else:
            print(f"{check:<16} {c['compared']:>8} {c['agree']:>6} {rate:>6.1f}%  {ids}")
    overall = 100.0 * total_a / total_c if total_c else float("nan")
    print(f"| **overall** | | {total_c} | {total_a} | **{overall:.1f} %** |" if md else
          f"{'overall':<16} {total_c:>8} {total_a:>6} {overall:>6.1f}%")
    print()
    for check, c in per_check.items():
        skipped = {k: v for k, v in c.items() if k.startswith("not compared")}
        if skipped:
            print(f"{check}: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
    print()
    print("Where checkov asks for more on purpose (files Demarc passes and that id fails):")
    for (check, i), n in sorted(beyond.items()):
        print(f"  {check:<16} {i:<11} {n}")
    print()
    cats = collections.Counter((d[0], d[6]) for d in disagreements)
    unexplained = sum(1 for d in disagreements if d[6].startswith("[unexplained]"))
    print(f"Disagreements: {len(disagreements)} ({unexplained} unexplained), by reason category:")
    for (check, cat), n in sorted(cats.items()):
        print(f"  {n:>4}  {check}: {cat}" if not md else f"- {n} x {check}: {cat}")
    print()
    print("Every disagreement:")
    for check, fname, theirs, failed, outcome, message, cat, variations in disagreements:
        v = {k: val for k, val in variations.items() if val not in (False, [], None)}
        print(f"- {check} {fname}: checkov {theirs} {failed or ''}; Demarc {outcome}: {message}\n    variations: {json.dumps(v, sort_keys=True)}")
    if a.summary_json:
        with open(a.summary_json, "w") as f:
            json.dump({
                "overall": {"compared": total_c, "agree": total_a, "rate": overall},
                "per_check": {k: dict(v) for k, v in per_check.items()},
                "disagreements": len(disagreements),
                "unexplained": unexplained,
            }, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
