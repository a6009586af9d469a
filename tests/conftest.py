"""Shared fixtures: a private redis-server on a free port for the whole session."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from scheduler import bootstrap
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLab, FakeGitLabServer
from tests.support.worker import TOKEN, make_context

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a throw-away redis-server (AOF on, so restarts keep data) and yield its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (.ci/run installs it with apt-get)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
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
def gitlab() -> Iterator[FakeGitLab]:
    """A fake GitLab REST API on a free 127.0.0.1 port."""
    server = FakeGitLabServer(FakeGitLab(token=TOKEN)).start()
    yield server.fake
    server.stop()


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLab) -> Iterator[WorkerContext]:
    """A worker context on the test Redis and the fake GitLab, installed for the jobs."""
    context = make_context(redis_url, gitlab.url)
    bootstrap.install(context)
    yield context
    bootstrap.install(None)
