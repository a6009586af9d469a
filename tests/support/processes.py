"""`pdm-bot` processes on a test's Redis and fake servers, started, killed and stopped by their pid only."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.servers.fake_gitlab import FakeGitLab
from tests.servers.fake_slack import FakeSlack
from tests.support.web import SIGNING_SECRET, WEBHOOK_SECRET
from tests.support.worker import POLICY, TOKEN

PDM_BOT = str(Path(sys.executable).with_name("pdm-bot"))
ANYTIME = POLICY.replace(
    "index_and_constraint:  {windows: [weekend]", "index_and_constraint:  {windows: [always]"
)


def wait_for(check: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll `check` every 50 ms until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.05)


@contextmanager
def pdm_processes(
    redis_url: str, gitlab: FakeGitLab, slack: FakeSlack, workdir: Path, *, stderr: int = subprocess.DEVNULL
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """`start(*args)` runs `pdm-bot ARGS...` on the ANYTIME policy (short lock TTL and poll interval);
    every process still running at the end is stopped by its pid."""
    policy_file = workdir / "policy.yaml"
    policy_file.write_text(ANYTIME, encoding="utf-8")
    env = {
        **os.environ,
        "PDM_REDIS_URL": redis_url,
        "PDM_GITLAB_URL": gitlab.url,
        "PDM_GITLAB_TOKEN": TOKEN,
        "PDM_GITLAB_PROJECT": "app",
        "PDM_GITLAB_PIPELINE_PROJECT": "deployer",
        "PDM_SLACK_API_URL": slack.api_url,
        "PDM_SLACK_BOT_TOKEN": "xoxb-test",
        "PDM_SLACK_CHANNEL": "C0RELEASE",
        "PDM_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PDM_GITLAB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PDM_POLICY_FILE": str(policy_file),
        "PDM_STARTING_SOON_SECONDS": "0",
        "PDM_RUN_LOCK_TTL_SECONDS": "2",
        "PDM_POLL_INTERVAL_SECONDS": "1",
    }
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [PDM_BOT, *args], env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=stderr
        )
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a `pdm-bot worker` and the job process it forked (both started by this test)."""
    path = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    kids = [int(p) for p in path.read_text().split()] if path.exists() else []
    for pid in [*kids, proc.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)
