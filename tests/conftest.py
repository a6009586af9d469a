"""Shared fixtures: a private redis-server on a free port for the whole session."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import freezegun
import pytest
import redis

from scheduler import bootstrap
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi, FakeGitLabServer
from tests.support.worker import TOKEN, make_context

REPO_ROOT = Path(__file__).resolve().parent.parent

# pytest measures test durations with `_pytest.timing`: a frozen clock must not reach it (--durations).
freezegun.configure(extend_ignore_list=["_pytest.timing"])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_served_by(client: redis.Redis, proc: subprocess.Popen[bytes]) -> bool:
    """Whether `proc` is the redis-server answering on `client`'s port: a free port may be taken by another
    test process (pytest-xdist, another checkout) between `free_port()` and the server's bind."""
    try:
        return int(client.info("server")["process_id"]) == proc.pid
    except redis.ConnectionError:
        return False


def start_redis(workdir: Path, *options: str) -> tuple[subprocess.Popen[bytes], int]:
    """A redis-server (`options` added) on a free port of 127.0.0.1, answering: (process, port)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (.ci/run installs it with apt-get)")
    for _ in range(5):
        port = free_port()
        command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir), *options]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=port, socket_timeout=5)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            if is_served_by(client, proc):
                return proc, port
            time.sleep(0.01)
        proc.kill()  # it lost the port to another process (it exits), or never answered
        proc.wait(timeout=10)
    raise RuntimeError("no redis-server could be started on a free port")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a throw-away redis-server (AOF on, so restarts keep data) and yield its URL."""
    proc, port = start_redis(tmp_path_factory.mktemp("redis"), "--save", "", "--appendonly", "yes")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A clean database on the session's redis-server."""
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    yield redis_server
    client.flushdb()


@pytest.fixture
def gitlab() -> Iterator[FakeGitLabApi]:
    """A fake GitLab REST API on a free 127.0.0.1 port."""
    server = FakeGitLabServer(FakeGitLabApi(token=TOKEN)).start()
    yield server.fake
    server.stop()


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLabApi) -> Iterator[WorkerContext]:
    """A worker context on the test Redis and the fake GitLab, installed for the jobs."""
    context = make_context(redis_url, gitlab.url)
    bootstrap.install(context)
    yield context
    bootstrap.install(None)
