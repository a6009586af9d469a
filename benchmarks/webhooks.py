"""1,000 GitLab deployment webhooks in a burst against a real `pdm-bot serve` and a private redis-server.

    .venv/bin/python benchmarks/webhooks.py [--deliveries 1000] [--duplicates 0.2] [--concurrency 32]

Sends `deliveries` Deployment Hook posts (a share of them redeliveries of earlier ones, shuffled in) from
`concurrency` threads, a new connection each, then checks that every distinct delivery was enqueued exactly
once (RQ jobs on queue `pdm` and dedup claims in Redis) and none was lost. Prints throughput and latency
percentiles; exits 1 when a delivery was lost, processed twice or answered with an error.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from redis import Redis
from rq import Queue
from serving import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-webhook-secret"
POLICY = """timezone: UTC
environments: [{name: gstg}, {name: gprd, requires: gstg}]
natures:
  no_op: {windows: [always], mode: auto}
"""


def delivery(deployment_id: int) -> bytes:
    """A Deployment Hook body, shaped like GitLab's."""
    sha = f"{deployment_id:040x}"
    return json.dumps(
        {
            "object_kind": "deployment",
            "status": "success",
            "status_changed_at": "2026-01-05 02:10:00 +0100",
            "deployment_id": deployment_id,
            "deployable_id": deployment_id * 10,
            "environment": "gprd" if deployment_id % 2 else "gstg",
            "project": {"id": 1, "path_with_namespace": "gitlab-org/gitlab"},
            "short_sha": sha[:8],
            "commit_url": f"https://gitlab.example.com/gitlab-org/gitlab/-/commit/{sha}",
        }
    ).encode()


def post(url: str, body: bytes) -> tuple[float, int, str]:
    """One delivery: latency (s), HTTP status and result."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", "X-Gitlab-Token": SECRET}, method="POST"
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read()
    elapsed = time.perf_counter() - started
    try:
        result = str(json.loads(answer).get("result", ""))
    except ValueError:
        result = "unreadable"
    return elapsed, status, result


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def plan(deliveries: int, duplicates: float, seed: int) -> list[int]:
    """Deployment ids to send: distinct ones plus redeliveries of earlier ones, shuffled."""
    rng = random.Random(seed)
    distinct = deliveries - int(deliveries * duplicates)
    ids = list(range(1, distinct + 1))
    ids += [rng.randint(1, distinct) for _ in range(deliveries - distinct)]
    rng.shuffle(ids)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--duplicates", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of pdm-bot serve")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    redis_bin = shutil.which("redis-server")
    if redis_bin is None:
        print("redis-server is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        redis_port, web_port = free_port(), free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        redis_proc = subprocess.Popen(
            [
                redis_bin,
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                tmp,
            ],
            stdout=subprocess.DEVNULL,
        )
        policy = Path(tmp) / "policy.yaml"
        policy.write_text(POLICY, encoding="utf-8")
        env = {
            **os.environ,
            "PDM_REDIS_URL": redis_url,
            "PDM_SLACK_SIGNING_SECRET": "bench-signing",
            "PDM_SLACK_BOT_TOKEN": "xoxb-bench",
            "PDM_GITLAB_WEBHOOK_SECRET": SECRET,
            "PDM_POLICY_FILE": str(policy),
            "PDM_LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": tmp,
        }
        serve = [
            str(Path(sys.executable).with_name("pdm-bot")),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(web_port),
            "--workers",
            str(args.workers),
            "--threads",
            "8",
        ]
        web_proc = subprocess.Popen(
            serve, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for(f"http://127.0.0.1:{web_port}/healthz")
            ids = plan(args.deliveries, args.duplicates, args.seed)
            url = f"http://127.0.0.1:{web_port}/webhooks/gitlab"
            started = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                answers = list(pool.map(lambda i: post(url, delivery(i)), ids))
            wall = time.perf_counter() - started
            connection = Redis.from_url(redis_url)
            jobs = Queue("pdm", connection=connection).get_jobs()
            claims = sum(1 for _ in connection.scan_iter("pdm:once:webhook:deployment:*", count=1000))
        finally:
            web_proc.terminate()
            web_proc.wait(timeout=20)
            redis_proc.terminate()
            redis_proc.wait(timeout=10)

    latencies = [a[0] for a in answers]
    results = Counter(a[2] for a in answers)
    errors = sum(1 for a in answers if a[1] != 200)
    distinct = len(set(ids))
    enqueued = Counter(int(job.args[1]) for job in jobs)
    twice = sum(1 for n in enqueued.values() if n > 1)
    lost = distinct - len(enqueued)
    report = {
        "deliveries": len(ids),
        "distinct": distinct,
        "redeliveries": len(ids) - distinct,
        "queued": results["queued"],
        "duplicate": results["duplicate"],
        "errors": errors,
        "jobs_enqueued": len(jobs),
        "dedup_claims": claims,
        "processed_twice": twice,
        "lost": lost,
        "throughput_per_s": round(len(ids) / wall, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "concurrency": args.concurrency,
        "gunicorn_workers": args.workers,
    }
    print(json.dumps(report, indent=2))
    ok = errors == 0 and twice == 0 and lost == 0 and results["queued"] == distinct and claims == distinct
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
