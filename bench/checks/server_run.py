#!/usr/bin/env python3
"""Times Demarc verification runs end to end over the REST API (used by scripts/bench-checks).

Against a running Demarc (release build, its job worker, PostgreSQL) and kube-fixture serving the
synthetic cluster, it creates through the REST API a team, a platform with a production
environment whose cluster connection (token mode) points at kube-fixture, applications whose
production placements list the synthetic namespaces, and a go-live review of each from the
default checklist template (16 automatic checks). Then:

  single  one application (PER_APP namespaces): POST /api/v1/golive/reviews/{id}/runs, then
          GET /api/v1/golive/runs/{id} every 10 ms until the run is finished; the time from the
          request to the first answer that shows it succeeded. The run commits its results and
          its finished state in one transaction, so that answer means the results are in
          PostgreSQL (checked: the verification_results rows of the run are counted with psql).
  all     every application at once (all NAMESPACES namespaces): the runs are requested
          together and timed until the last one has succeeded (the job queue runs them).

  server_run.py --app URL --token TOKEN --cluster URL --cluster-token T [--namespaces 1000]
                [--per-app 100] [--runs 5] [--all-runs 2] [--psql PSQL --database-url URL]

Prints one JSON object with the figures. Applications may list at most 100 namespaces per
environment (the catalogue's validation limit), so the cluster is split into applications of
PER_APP namespaces.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request


class Api:
    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method, path, body=None, expect=(200, 201, 202, 204)):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if status not in expect:
            sys.exit(f"{method} {path} -> {status}: {raw.decode(errors='replace')[:800]}")
        return json.loads(raw) if raw else None


def stats(values):
    return {
        "mean": statistics.fmean(values),
        "min": min(values),
        "max": max(values),
        "all": values,
    }


def wait_finished(api, run_ids, timeout=600):
    """Polls the runs every 10 ms until all have finished; returns {id: run} and the time."""
    pending = set(run_ids)
    done = {}
    deadline = time.monotonic() + timeout
    while pending:
        for rid in list(pending):
            run = api.call("GET", f"/api/v1/golive/runs/{rid}")
            if run["state"] in ("succeeded", "failed"):
                done[rid] = run
                pending.discard(rid)
        if pending:
            if time.monotonic() > deadline:
                sys.exit(f"runs not finished within {timeout} s: {sorted(pending)}")
            time.sleep(0.01)
    return done, time.monotonic()


def check_run(run):
    if run["state"] != "succeeded":
        sys.exit(f"run {run['id']} {run['state']}: {run.get('error')}")
    s = run["summary"]
    return s["pass"] + s["warn"] + s["fail"] + s["not_applicable"] + s["error"]


def iso_seconds(a, b):
    from datetime import datetime

    def parse(t):
        return datetime.fromisoformat(t.replace("Z", "+00:00"))

    return (parse(b) - parse(a)).total_seconds()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--app", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--cluster", required=True)
    p.add_argument("--cluster-token", required=True)
    p.add_argument("--namespaces", type=int, default=1000)
    p.add_argument("--per-app", type=int, default=100)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--all-runs", type=int, default=2)
    p.add_argument("--psql")
    p.add_argument("--database-url")
    a = p.parse_args()
    api = Api(a.app, a.token)
    log = lambda m: print(f"    {m}", file=sys.stderr, flush=True)

    # The catalogue: a team, a platform with production, the cluster connection.
    team = api.call("POST", "/api/v1/teams", {
        "slug": "bench-checks", "name": "Bench checks",
        "description": "Owns the applications of the verification benchmark.",
        "contact": "bench-checks@example.test"})
    platform = api.call("POST", "/api/v1/platforms", {
        "slug": "synthetic", "name": "Synthetic",
        "description": "The synthetic cluster of bench/checks/gen_corpus.py."})
    env = api.call("POST", f"/api/v1/platforms/{platform['id']}/environments", {
        "slug": "production", "name": "Production", "position": 0, "is_production": True})
    conn_path = f"/api/v1/environments/{env['id']}/cluster-connection"
    api.call("PUT", conn_path, {"mode": "token", "server_url": a.cluster,
                                "secret": a.cluster_token, "version": 0})
    test = api.call("POST", f"{conn_path}/test")
    if not test["ok"]:
        sys.exit(f"test connection failed: {test}")
    log(f"cluster connection: {a.cluster}, server {test['server_version']}, nothing missing")

    # Applications of PER_APP namespaces each, and a review of each.
    names = [f"team-{i:04d}" for i in range(a.namespaces)]
    reviews = []
    for n, first in enumerate(range(0, a.namespaces, a.per_app)):
        app = api.call("POST", "/api/v1/applications", {
            "team_id": team["id"], "slug": f"synthetic-{n:02d}", "name": f"Synthetic {n:02d}",
            "description": f"Namespaces {names[first]} to {names[min(first + a.per_app, a.namespaces) - 1]}.",
            "placements": [{"environment_id": env["id"], "namespace": ns}
                           for ns in names[first:first + a.per_app]]})
        review = api.call("POST", "/api/v1/golive/reviews",
                          {"application_id": app["id"], "environment_id": env["id"]})
        reviews.append(review["id"])
    checks = sum(1 for i in review["items"] if i["definition"].get("check") or i.get("check"))
    log(f"{len(reviews)} applications of up to {a.per_app} namespaces, one review each "
        f"({len(review['items'])} items)")

    def request(review_id):
        return api.call("POST", f"/api/v1/golive/reviews/{review_id}/runs")["id"]

    # single: one application, sequential runs after a warm-up.
    single, queue, server, results, last_run = [], [], [], None, None
    for i in range(a.runs + 1):
        t0 = time.monotonic()
        rid = request(reviews[0])
        done, t1 = wait_finished(api, [rid])
        run = done[rid]
        n = check_run(run)
        results = n
        last_run = run
        if i == 0:
            continue  # warm-up
        single.append(t1 - t0)
        queue.append(iso_seconds(run["created_at"], run["started_at"]))
        server.append(iso_seconds(run["created_at"], run["finished_at"]))
        log(f"single run {i}: {t1 - t0:.2f} s, {n} results")

    stored = None
    if a.psql and a.database_url:
        out = subprocess.run(
            [a.psql, "-X", "-tA", a.database_url, "-c",
             f"SELECT count(*) FROM verification_results WHERE run_id = '{last_run['id']}'"],
            check=True, capture_output=True, text=True).stdout.strip()
        stored = int(out)
        if stored != results:
            sys.exit(f"run {last_run['id']}: {stored} result rows in PostgreSQL, {results} in the summary")

    # all: every application at once.
    every, every_results = [], None
    for i in range(a.all_runs):
        t0 = time.monotonic()
        ids = [request(r) for r in reviews]
        done, t1 = wait_finished(api, ids)
        every_results = sum(check_run(r) for r in done.values())
        every.append(t1 - t0)
        log(f"all {len(ids)} applications: {t1 - t0:.2f} s, {every_results} results")

    print(json.dumps({
        "applications": len(reviews),
        "per_app": a.per_app,
        "namespaces": a.namespaces,
        "checks": checks,
        "server_version": test["server_version"],
        "single": {**stats(single), "results": results, "stored_rows": stored,
                   "queue_wait": statistics.fmean(queue) if queue else None,
                   "server_created_to_finished": statistics.fmean(server) if server else None},
        "all": {**(stats(every) if every else {}), "results": every_results},
    }))


if __name__ == "__main__":
    main()
