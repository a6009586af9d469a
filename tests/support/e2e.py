"""Helpers of the end-to-end tests (tests/e2e): real Redis, a `pdm-bot serve` process and a
`pdm-bot worker` process, both talking over HTTP to the fake Slack and the fake GitLab of the test.

Each process is started in its own session (process group), so teardown stops exactly what the test
started — gunicorn's workers and RQ's scheduler child included — and nothing else.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Queue

from scheduler.adapters.redis_store import RedisStore
from scheduler.jobnames import QUEUE_NAME
from scheduler.policy.model import load_policy
from tests.conftest import REPO_ROOT
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack
from tests.support.processes import start_listening
from tests.support.web import SIGNING_SECRET, WEBHOOK_SECRET, Served, http
from tests.support.worker import BASE, TOKEN

PDM_BOT = str(Path(sys.executable).with_name("pdm-bot"))
APPROVER = "U0APPROVER"
SECOND_APPROVER = "U0SECOND"
STRANGER = "U0RANDOM"

# Every nature may run at any time: the real clock of the processes always finds the batch runnable.
ALWAYS_POLICY = f"""
timezone: UTC
environments:
  - name: gstg
    baseline: "{BASE}"
    variables: {{POSTDEPLOY_PIPELINE: "true"}}
natures:
  no_op:                 {{windows: [always], mode: auto}}
  background_scheduling: {{windows: [always], mode: auto}}
  index_and_constraint:  {{windows: [always], mode: approval}}
  data_migration:        {{windows: [always], mode: approval}}
  ddl_cleanup:           {{windows: [always], mode: approval}}
  unknown:               {{windows: [always], mode: approval}}
approvers: {{users: [{APPROVER}, {SECOND_APPROVER}]}}
"""

StartStack = Callable[..., Served]


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll `check` every 50 ms until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def deployment_hook(
    gitlab: FakeGitLabApi, sha: str, deployment_id: int = 41, status: str = "success"
) -> dict[str, Any]:
    """A GitLab Deployment Hook payload for `gstg` as GitLab sends it."""
    return {
        "object_kind": "deployment",
        "status": status,
        "status_changed_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "deployment_id": deployment_id,
        "deployable_id": deployment_id * 10,
        "deployable_url": f"{gitlab.url}/app/-/jobs/{deployment_id * 10}",
        "environment": "gstg",
        "project": {"id": 1, "name": "app", "path_with_namespace": "app"},
        "short_sha": sha[:8],
        "user": {"id": 1, "username": "release-tools"},
        "commit_url": f"{gitlab.url}/app/-/commit/{sha}",
        "commit_title": "Deploy",
    }


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class Stack:
    """Starts `pdm-bot serve` + `pdm-bot worker` on the given Redis and fakes; `stop()` ends them.
    `stop_worker()` / `start_worker()` take the worker down and bring a new one up (a warm stop: RQ
    releases its scheduler lock, so the new worker schedules at once)."""

    def __init__(self, redis_url: str, gitlab: FakeGitLabApi, slack: FakeSlack, workdir: Path) -> None:
        self.redis_url, self.gitlab, self.slack, self.workdir = redis_url, gitlab, slack, workdir
        self.started: list[subprocess.Popen[bytes]] = []
        self.worker: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}

    def start(self, policy: str = ALWAYS_POLICY, **settings: str) -> Served:
        """Write the policy, start both processes with `PDM_*` settings (+ overrides), wait for /healthz."""
        policy_file = self.workdir / "policy.yaml"
        policy_file.write_text(policy, encoding="utf-8")
        self.env = {
            **os.environ,
            "PDM_REDIS_URL": self.redis_url,
            "PDM_SLACK_API_URL": self.slack.api_url,
            "PDM_SLACK_BOT_TOKEN": "xoxb-e2e",
            "PDM_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "PDM_SLACK_CHANNEL": "C0RELEASE",
            "PDM_GITLAB_URL": self.gitlab.url,
            "PDM_GITLAB_TOKEN": TOKEN,
            "PDM_GITLAB_PROJECT": "app",
            "PDM_GITLAB_PIPELINE_PROJECT": "deployer",
            "PDM_GITLAB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PDM_POLICY_FILE": str(policy_file),
            "PDM_POLL_INTERVAL_SECONDS": "1",
            "PDM_STARTING_SOON_SECONDS": "0",
            "PDM_LOG_LEVEL": "WARNING",
            **{f"PDM_{k.upper()}": v for k, v in settings.items()},
        }
        self.start_worker()
        _, port = start_listening(
            lambda port: self._spawn(
                "serve", ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
            )
        )
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return http(url + "/healthz", None, {}, method="GET").status == 200
            except OSError:
                return False

        wait_for(healthy, "pdm-bot serve to answer /healthz", timeout=15)
        connection = Redis.from_url(self.redis_url)
        return Served(
            url, RedisStore(connection), Queue(QUEUE_NAME, connection=connection), load_policy(policy)
        )

    def start_worker(self) -> None:
        """Start a `pdm-bot worker` (its log is appended to worker.log)."""
        self.worker = self._spawn("worker", ["worker"])

    def stop_worker(self) -> None:
        """Stop the running worker (SIGTERM to its process group) and wait for it."""
        assert self.worker is not None
        _stop(self.worker)
        self.worker = None

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        with (self.workdir / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                [PDM_BOT, *argv],
                env=self.env,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(proc)
        return proc

    def stop(self) -> None:
        """Stop every process this stack started (newest first)."""
        for proc in reversed(self.started):
            _stop(proc)
