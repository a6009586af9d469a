"""evaluate() for 20 environments x 200 pending migrations through Redis: per-evaluation latency.

Usage: .venv/bin/python benchmarks/evaluate.py [--rounds N]
Uses PDM_REDIS_URL when set (its database is flushed!), else starts a private redis-server on a free port.
Each evaluation loads state from Redis, runs the planner, writes its audit entry and, the window being
closed, schedules (once) the next evaluation. No GitLab or Slack call is made on this path.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from redis import Redis
from rq import Queue

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler import bootstrap, jobs
from scheduler.adapters.gitlab import GitLabAdapter
from scheduler.adapters.redis_store import RedisStore
from scheduler.classify import classify_source
from scheduler.notes import RunRequestAnswer
from scheduler.policy.model import load_policy
from scheduler.records import Deployment, DeploymentStatus, PendingRecord
from scheduler.service.context import Timing, WorkerContext

ENVIRONMENTS, PENDING = 20, 200
NOW = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)  # a Wednesday night: the weekend window is closed
SOURCE = b"""class AddIndexOnFoo < Gitlab::Database::Migration[2.2]
  disable_ddl_transaction!
  def up
    add_concurrent_index :merge_requests, :merged_at, name: 'idx'
  end
end
"""


class _Silent:
    def post(self, note: object) -> None:
        return None

    def update(self, note: object) -> None:
        return None

    def respond(self, response_url: str, answer: str | RunRequestAnswer, *, ephemeral: bool = True) -> None:
        return None


def _redis() -> tuple[str, subprocess.Popen[bytes] | None]:
    if os.environ.get("PDM_REDIS_URL"):
        return os.environ["PDM_REDIS_URL"], None
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found and PDM_REDIS_URL not set")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--dir", tempfile.mkdtemp()], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            Redis.from_url(url).ping()
            break
        except Exception:
            time.sleep(0.05)
    return url, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--no-gc-freeze", action="store_true", help="skip gc.freeze() (pdm-bot worker does it)"
    )
    args = parser.parse_args()
    rounds = args.rounds
    # the jobs log one event per decision; the benchmark measures decisions, not terminal output
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    url, proc = _redis()
    try:
        connection = Redis.from_url(url)
        connection.flushdb()
        names = [f"env{i:02d}" for i in range(ENVIRONMENTS)]
        envs = "\n".join(f"  - name: {n}" for n in names)
        policy = load_policy(
            f"timezone: UTC\nenvironments:\n{envs}\nwindows:\n"
            '  - {name: weekend, kind: allow, schedule: "0 0 * * 6", duration: 48h}\n'
            "natures:\n  index_and_constraint: {windows: [weekend], mode: approval}\n"
        )
        state = RedisStore(connection)
        classification = classify_source(SOURCE, "db/post_migrate/20260101000000_add_index.rb")
        for env in names:
            state.record_deployment(
                env, Deployment(1, "c" * 40, "cccccccc", NOW - timedelta(hours=3), DeploymentStatus.SUCCESS)
            )
            state.set_pending(
                env,
                [
                    PendingRecord(
                        str(20260101000000 + i),
                        f"db/post_migrate/{20260101000000 + i}_m.rb",
                        classification.model_copy(update={"version": str(20260101000000 + i)}),
                        "c" * 40,
                        NOW - timedelta(hours=3),
                    )
                    for i in range(PENDING)
                ],
            )
        bootstrap.install(
            WorkerContext(
                state=state,
                gitlab=GitLabAdapter("http://127.0.0.1:9", "unused", "app", "deployer", "master"),
                notifier=_Silent(),
                policy=policy,
                queue=Queue("pdm", connection=connection),
                timing=Timing(),
            )
        )
        if not args.no_gc_freeze:
            gc.freeze()  # as `pdm-bot worker` does after start-up
        samples: list[float] = []
        for _ in range(rounds):
            for env in names:
                start = time.perf_counter()
                jobs.evaluate(env)
                samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        p50 = statistics.median(samples)
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(
            f"evaluate(): {ENVIRONMENTS} environments x {PENDING} pending, {len(samples)} evaluations: "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {samples[-1]:.1f} ms (target p99 < 50 ms)"
        )
    finally:
        bootstrap.install(None)
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
