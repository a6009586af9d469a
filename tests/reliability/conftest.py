"""Fixtures of the reliability tests: fake GitLab and Slack servers, a worker context, private Redis servers
that a test may kill and restart, `pdm-bot` processes started (and stopped) by their pid, and a `stack`
(`pdm-bot serve` + `pdm-bot worker`, tests/support/e2e.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.conftest import free_port, is_served_by
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.e2e import Stack
from tests.support.processes import pdm_processes, wait_for


@dataclass
class RedisProcess:
    """A redis-server with AOF on its own port and directory; `kill()` and `start()` by pid only."""

    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    password: str = ""

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
                *(["--requirepass", self.password] if self.password else []),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, password=self.password or None)
        proc = self.proc
        wait_for(
            lambda: proc.poll() is not None or is_served_by(client, proc), timeout=10, what="redis-server"
        )
        assert proc.poll() is None, (
            f"redis-server could not listen on port {self.port}: another process has it"
        )

    def hang(self) -> None:
        """SIGSTOP the server: connections stay open, nothing is answered (a hung Redis)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def wake(self) -> None:
        """SIGCONT a hung server."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the server (a crash: only what the AOF holds survives)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A private redis-server this test may kill and restart on the same port and directory."""
    server = RedisProcess(free_port(), tmp_path / "redis")
    server.workdir.mkdir()
    server.start()
    yield server
    if server.proc is not None:
        server.wake()  # a test that failed while the server hung must still stop it
        server.proc.terminate()
        server.proc.wait(timeout=10)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack({"S0RELEASE": ["U0GROUPIE"]})


@pytest.fixture
def processes(
    redis_url: str, gitlab: FakeGitLabApi, slack: FakeSlack, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `pdm-bot ARGS...` processes; every one still running at the end is stopped by its pid."""
    with pdm_processes(redis_url, gitlab, slack, tmp_path, stderr=subprocess.PIPE) as start:
        yield start


@pytest.fixture
def stack(redis_url: str, gitlab: FakeGitLabApi, slack: FakeSlack, tmp_path: Path) -> Iterator[Stack]:
    """`stack.start(policy, **settings)` runs `pdm-bot serve` + `pdm-bot worker`; all stop at teardown."""
    started = Stack(redis_url, gitlab, slack, tmp_path)
    yield started
    started.stop()
