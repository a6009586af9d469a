"""Fixtures of the reliability tests: fake GitLab and Slack servers, a worker context, private Redis servers
that a test may kill and restart, and `pdm-bot` processes started (and stopped) by their pid."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from scheduler import worker_context
from scheduler.worker_context import WorkerContext
from tests.conftest import REPO_ROOT, free_port
from tests.servers.fake_gitlab import FakeGitLab, FakeGitLabServer
from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.worker import POLICY, TOKEN, make_context

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


@dataclass
class RedisProcess:
    """A redis-server with AOF on its own port and directory; `kill()` and `start()` by pid only."""

    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed"
        self.proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), timeout=10, what="redis-server answering")

    def kill(self) -> None:
        """SIGKILL the server (a crash: only what the AOF holds survives)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A private redis-server this test may kill and restart on the same port and directory."""
    server = RedisProcess(free_port(), tmp_path / "redis")
    server.workdir.mkdir()
    server.start()
    yield server
    if server.proc is not None:
        server.proc.terminate()
        server.proc.wait(timeout=10)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    server = FakeGitLabServer(FakeGitLab(token=TOKEN)).start()
    yield server.fake
    server.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack({"S0RELEASE": ["U0GROUPIE"]})


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLab) -> Iterator[WorkerContext]:
    context = make_context(redis_url, gitlab.url)
    worker_context.install(context)
    yield context
    worker_context.install(None)


def process_env(redis_url: str, gitlab: FakeGitLab, slack: FakeSlack, policy_file: Path) -> dict[str, str]:
    """Environment of `pdm-bot` processes on the fakes (short lock TTL and poll interval)."""
    return {
        **os.environ,
        "PDM_REDIS_URL": redis_url,
        "PDM_GITLAB_URL": gitlab.url,
        "PDM_GITLAB_TOKEN": TOKEN,
        "PDM_GITLAB_PROJECT": "app",
        "PDM_GITLAB_PIPELINE_PROJECT": "deployer",
        "PDM_SLACK_API_URL": slack.api_url,
        "PDM_SLACK_BOT_TOKEN": "xoxb-test",
        "PDM_SLACK_CHANNEL": "C0RELEASE",
        "PDM_POLICY_FILE": str(policy_file),
        "PDM_STARTING_SOON_SECONDS": "0",
        "PDM_RUN_LOCK_TTL_SECONDS": "2",
        "PDM_POLL_INTERVAL_SECONDS": "1",
    }


@pytest.fixture
def processes(
    redis_url: str, gitlab: FakeGitLab, slack: FakeSlack, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `pdm-bot ARGS...` processes; every one still running at the end is stopped by its pid."""
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(ANYTIME, encoding="utf-8")
    env = process_env(redis_url, gitlab, slack, policy_file)
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [PDM_BOT, *args], env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        started.append(proc)
        return proc

    yield start
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
