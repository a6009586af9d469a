"""Ack latency of `/pdm status` against a real `pdm-bot serve` (gunicorn) and a private redis-server.

    .venv/bin/python benchmarks/ack.py [--requests 500] [--concurrency 20]

Starts redis-server and `pdm-bot serve` on free ports, seeds 30 pending migrations, sends signed slash
commands like Slack does (a new connection each), and prints p50/p99 latency and the error count.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from redis import Redis
from serving import free_port, wait_for

from scheduler.adapters.redis_store import RedisStore
from scheduler.classify.model import Classification
from scheduler.natures import ALL_NATURES
from scheduler.records import PendingRecord

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
POLICY = """timezone: UTC
environments: [{name: gstg}, {name: gprd, requires: gstg, min_soak: 2h}]
windows:
  - {name: weekday-offpeak, kind: allow, schedule: "0 1 * * 1-5", duration: 5h}
  - {name: weekend, kind: allow, schedule: "0 0 * * 6", duration: 48h}
natures:
  no_op: {windows: [always], mode: auto}
  background_scheduling: {windows: [weekday-offpeak, weekend], mode: auto}
  index_and_constraint: {windows: [weekend], mode: approval}
  data_migration: {windows: [weekend], mode: approval}
  ddl_cleanup: {windows: [weekend], mode: approval}
  unknown: {windows: [weekend], mode: manual}
approvers: {users: [U0APPROVER]}
"""


def seed(redis_url: str) -> None:
    at = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    items = []
    for i in range(30):
        nature = ALL_NATURES[i % len(ALL_NATURES)]
        version = f"202601{i:08d}"
        c = Classification(
            path=f"db/post_migrate/{version}_m.rb",
            version=version,
            name=f"m{i}",
            primary_nature=nature,
            natures=[nature],
        )
        items.append(PendingRecord(version, c.path, c, "b" * 40, at))
    RedisStore(Redis.from_url(redis_url)).set_pending("gprd", items)


def one_request(url: str) -> tuple[float, bool]:
    body = urlencode(
        {
            "command": "/pdm",
            "text": "status gprd",
            "user_id": "U0READER",
            "channel_id": "C1",
            "team_id": "T1",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": "1",
        }
    )
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        },
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            ok = response.status == 200 and b"pending post-deploy" in response.read()
    except (OSError, urllib.error.URLError):
        ok = False
    return (time.perf_counter() - start) * 1000, ok


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        raise SystemExit("redis-server is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        redis_port, web_port = free_port(), free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        policy = Path(tmp) / "policy.yaml"
        policy.write_text(POLICY, encoding="utf-8")
        metrics_dir = Path(tmp) / "metrics"
        metrics_dir.mkdir()
        redis_proc = subprocess.Popen(
            [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp],
            stdout=subprocess.DEVNULL,
        )
        env = {
            **os.environ,
            "PDM_REDIS_URL": redis_url,
            "PDM_SLACK_SIGNING_SECRET": SECRET,
            "PDM_SLACK_BOT_TOKEN": "xoxb-bench",
            "PDM_POLICY_FILE": str(policy),
            "PDM_LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
        serve = [
            str(ROOT / ".venv/bin/pdm-bot"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(web_port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ]
        web_proc = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(f"http://127.0.0.1:{web_port}/healthz")
            seed(redis_url)
            url = f"http://127.0.0.1:{web_port}/slack/events"
            for _ in range(20):
                one_request(url)
            started = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                results = list(pool.map(lambda _: one_request(url), range(args.requests)))
            elapsed = time.perf_counter() - started
        finally:
            web_proc.terminate()
            web_proc.wait(timeout=20)
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
    latencies = [ms for ms, _ in results]
    errors = sum(1 for _, ok in results if not ok)
    print(
        f"/pdm status: {args.requests} requests, {args.concurrency} concurrent, "
        f"gunicorn {args.workers} workers x {args.threads} threads"
    )
    print(
        f"p50 {statistics.median(latencies):.1f} ms  p99 {percentile(latencies, 99):.1f} ms  "
        f"max {max(latencies):.1f} ms  errors {errors}  throughput {args.requests / elapsed:.0f} req/s"
    )
    return 0 if errors == 0 and percentile(latencies, 99) <= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
