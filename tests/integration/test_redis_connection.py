"""`connect` of the Redis adapter against a real redis-server and a real `redis-server --sentinel`.

Every server is started by the test on free ports of 127.0.0.1 and terminated by it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr

from scheduler.adapters.redis_connection import connect, sentinel_addresses
from scheduler.errors import InputError
from scheduler.settings import Settings
from tests.conftest import free_port

PASSWORD = "s3ntinel-test-pass"
MASTER = "pdmmaster"
BINARY = shutil.which("redis-server")


@dataclass
class Cluster:
    """A password-protected master, one replica and one Sentinel watching the master."""

    master_port: int
    replica_port: int
    sentinel_port: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop_master(self) -> None:
        """Terminate the master's process (the first one started)."""
        self.processes[0].terminate()
        self.processes[0].wait(timeout=10)

    def direct(self, port: int, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, db=db, password=PASSWORD)


def wait_until(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    assert BINARY is not None
    ports = Cluster(free_port(), free_port(), free_port())
    common = ["--bind", "127.0.0.1", "--save", "", "--requirepass", PASSWORD, "--masterauth", PASSWORD]
    common += ["--repl-diskless-sync-delay", "0"]  # the replica syncs at once
    started = ports.processes
    try:
        for port, extra in (
            (ports.master_port, []),
            (ports.replica_port, ["--replicaof", "127.0.0.1", str(ports.master_port)]),
        ):
            workdir = tmp_path / str(port)
            workdir.mkdir()
            started.append(
                subprocess.Popen(
                    [BINARY, "--port", str(port), "--dir", str(workdir), *common, *extra],
                    stdout=subprocess.DEVNULL,
                )
            )
        conf = tmp_path / "sentinel.conf"
        conf.write_text(
            f"port {ports.sentinel_port}\n"
            "bind 127.0.0.1\n"
            f"dir {tmp_path}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {ports.master_port} 1\n"
            f"sentinel auth-pass {MASTER} {PASSWORD}\n"
            f"sentinel down-after-milliseconds {MASTER} 1000\n"
            f"sentinel failover-timeout {MASTER} 5000\n",
            encoding="utf-8",
        )
        # The Sentinel starts once the replica is linked: its first INFO of the master then lists the replica
        # (a replica that links later is only found at the next INFO, 10 s on).
        wait_until(lambda: ports.direct(ports.replica_port).info("replication")["master_link_status"] == "up")
        started.append(subprocess.Popen([BINARY, str(conf), "--sentinel"], stdout=subprocess.DEVNULL))
        sentinel = redis.Redis(host="127.0.0.1", port=ports.sentinel_port)
        wait_until(lambda: sentinel.sentinel_get_master_addr_by_name(MASTER) is not None)
        yield ports
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.terminate()
        for proc in started:
            proc.wait(timeout=10)


def sentinel_settings(cluster: Cluster, db: int = 3) -> Settings:
    return Settings(
        redis_url=f"redis://ignored-host:6379/{db}",
        redis_password=SecretStr(PASSWORD),
        redis_sentinels=f"127.0.0.1:{free_port()}, 127.0.0.1:{cluster.sentinel_port}",
        redis_sentinel_master=MASTER,
    )


def test_with_sentinels_the_client_writes_to_the_master_in_the_database_of_the_url(cluster: Cluster) -> None:
    client = connect(sentinel_settings(cluster))
    client.set("pdm:probe", "1")
    assert cluster.direct(cluster.master_port, db=3).get("pdm:probe") == b"1"
    assert cluster.direct(cluster.master_port, db=0).get("pdm:probe") is None


class DroppingSentinel:
    """A Sentinel address that accepts connections and closes them at once, counting them."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


def test_a_dead_sentinel_listed_first_is_tried_once_then_the_next_one_answers(cluster: Cluster) -> None:
    dead = DroppingSentinel()
    try:
        settings = sentinel_settings(cluster).model_copy(
            update={"redis_sentinels": f"127.0.0.1:{dead.port},127.0.0.1:{cluster.sentinel_port}"}
        )
        client = connect(settings)
        client.set("pdm:probe", "2")
        assert cluster.direct(cluster.master_port, db=3).get("pdm:probe") == b"2"
        assert dead.accepted == 1  # with redis-py's default retries it was 11 connections
    finally:
        dead.server.close()


def test_with_sentinels_the_client_follows_a_failover_when_the_master_dies(cluster: Cluster) -> None:
    client = connect(sentinel_settings(cluster))
    client.set("pdm:before", "1")
    wait_until(lambda: cluster.direct(cluster.replica_port, db=3).get("pdm:before") == b"1")
    sentinel = redis.Redis(host="127.0.0.1", port=cluster.sentinel_port)
    wait_until(lambda: len(sentinel.sentinel_slaves(MASTER)) == 1)  # found through the master's INFO
    cluster.stop_master()
    wait_until(lambda: sentinel.sentinel_get_master_addr_by_name(MASTER)[1] == cluster.replica_port)

    def written() -> bool:
        client.set("pdm:after", "1")
        return True

    wait_until(written)
    assert cluster.direct(cluster.replica_port, db=3).get("pdm:after") == b"1"
    assert client.get("pdm:before") == b"1"


def test_without_sentinels_the_password_setting_authenticates_a_url_without_one(cluster: Cluster) -> None:
    url = f"redis://127.0.0.1:{cluster.master_port}/2"
    with pytest.raises(redis.AuthenticationError):
        connect(Settings(redis_url=url)).ping()
    client = connect(Settings(redis_url=url, redis_password=SecretStr(PASSWORD)))
    client.set("pdm:plain", "1")
    assert cluster.direct(cluster.master_port, db=2).get("pdm:plain") == b"1"


@pytest.mark.parametrize(
    "text, reason",
    [("sentinel-0:26379,sentinel-1", "'sentinel-1' is not host:port"), (":26379", "':26379'")],
    ids=["no-port", "no-host"],
)
def test_a_malformed_sentinel_list_is_a_one_line_input_error(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        sentinel_addresses(text)


def test_sentinel_addresses_are_parsed_and_blanks_ignored() -> None:
    assert sentinel_addresses(" a:26379, ,b.svc:26380") == [("a", 26379), ("b.svc", 26380)]
    assert sentinel_addresses("") == []
