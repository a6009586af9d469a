"""Faults against real processes (`pdm-bot serve`, `worker`, `cron`) on a redis-server the test hangs
(SIGSTOP), kills and restarts: `serve` answers every Slack request within Slack's 3 s while Redis hangs;
`worker` and `cron` ride out a Redis restart and a hang and process jobs again without being restarted;
garbage before the Slack signature is a 401; a stale `running` deployment event leaves no deploy marker.
Production defaults throughout; cron runs with `--interval 5` (its own option) so a slot passes in time."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

from scheduler.adapters.redis_store import RedisStore
from scheduler.jobnames import QUEUE_NAME
from tests.conftest import free_port
from tests.reliability.conftest import RedisProcess
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack
from tests.support.processes import pdm_processes, start_listening, wait_for
from tests.support.web import Reply, Served, http
from tests.support.worker import DEPLOYED, NO_OP, policy, publish

SLACK_DEADLINE = 3.0
UNAVAILABLE = "State store unavailable, nothing was changed"


@contextmanager
def real_serve(start: Callable[..., subprocess.Popen[bytes]], redis_url: str) -> Iterator[Served]:
    """`pdm-bot serve` (gunicorn, production worker and thread counts) on a free port, answering."""
    _, port = start_listening(lambda port: start("serve", "--host", "127.0.0.1", "--port", str(port)))
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return http(url + "/healthz", None, {}, method="GET").status == 200
        except OSError:
            return False

    wait_for(healthy, timeout=30, what="pdm-bot serve answering /healthz")
    connection = Redis.from_url(redis_url)
    yield Served(url, RedisStore(connection), Queue(QUEUE_NAME, connection=connection), policy())


@pytest.fixture
def outage_processes(
    own_redis: RedisProcess, gitlab: FakeGitLabApi, slack: FakeSlack, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """`pdm-bot ARGS...` on the test's own redis-server (which the test may hang, kill and restart)."""
    with pdm_processes(own_redis.url, gitlab, slack, tmp_path, stderr=subprocess.PIPE) as start:
        yield start


def timed(request: Callable[[], Reply]) -> tuple[float, Reply]:
    started = time.monotonic()
    reply = request()
    return time.monotonic() - started, reply


def hook(status: str, deployment_id: int, at: datetime) -> dict[str, object]:
    return {
        "object_kind": "deployment",
        "status": status,
        "deployment_id": deployment_id,
        "environment": "gstg",
        "short_sha": "c0ffee1",
        "commit_url": "https://gitlab.example.com/app/-/commit/" + "c0ffee" + "d" * 34,
        "status_changed_at": at.isoformat(),
    }


# serve while Redis hangs ---------------------------------------------------------------------------


def test_every_slack_request_is_answered_within_3_s_while_redis_hangs_and_nothing_changes(
    own_redis: RedisProcess, slack: FakeSlack, outage_processes: Callable[..., subprocess.Popen[bytes]]
) -> None:
    with real_serve(outage_processes, own_redis.url) as app:
        requests: dict[str, Callable[[], Reply]] = {
            "status": lambda: app.slash("status gstg", user="U1"),
            "pause": lambda: app.slash("pause gstg drill", user="U1"),
            "refused": lambda: app.slash("pause gstg drill", user="U0NOBODY"),
            "approve": lambda: app.click("pdm_approve", "gstg-1", "U1", slack.response_url("approve")),
            "webhook": lambda: app.webhook(hook("success", 7, datetime.now(UTC))),
            "healthz": lambda: http(app.url + "/healthz", None, {}, method="GET"),
        }
        own_redis.hang()
        try:
            sequential = {name: timed(request) for name, request in requests.items()}
            with ThreadPoolExecutor(max_workers=24) as pool:  # more requests than gunicorn's 2 × 8 threads
                burst = list(pool.map(lambda name: timed(requests[name]), [*requests] * 4))
        finally:
            own_redis.wake()

        slowest = max(elapsed for elapsed, _ in [*sequential.values(), *burst])
        print(f"\nRedis hung: {len(sequential) + len(burst)} requests, slowest answer {slowest:.2f} s")
        assert slowest < SLACK_DEADLINE, f"slowest answer took {slowest:.2f} s"
        for name in ("status", "pause", "refused"):
            reply = sequential[name][1]
            assert reply.status == 200 and UNAVAILABLE in reply.json()["text"], (name, reply.body[:200])
        assert sequential["approve"][1].status == 200
        told = [c.args for c in slack.named("response_url") if UNAVAILABLE in str(c.args.get("text"))]
        assert len(told) == 1 + 4  # the sequential click and the four clicks of the burst
        webhook = sequential["webhook"][1]
        assert webhook.status == 503 and webhook.json()["result"] == "unavailable"
        assert sequential["healthz"][1].status == 503
        assert http(app.url + "/livez", None, {}, method="GET").status == 200  # the chart's probes
        for _, reply in burst:  # a button's ack is an empty 200, as Slack expects; a 503 says why
            assert reply.status < 500 or (reply.status == 503 and reply.json()), reply.body[:200]

        # Redis is back: nothing was enqueued, paused or claimed while it hung, and GitLab's redelivery
        # of the webhook answered 503 is queued once.
        time.sleep(0.5)
        assert app.queue.count == 0
        assert app.state.effective_pause("gstg") is None
        assert app.webhook(hook("success", 7, datetime.now(UTC))).json()["result"] == "queued"
        assert app.slash("pause gstg drill", user="U1").json()["text"].startswith(":inbox_tray:")
        assert http(app.url + "/healthz", None, {}, method="GET").status == 200


def test_a_webhook_while_redis_is_down_is_a_503_with_a_reason_and_queued_on_redelivery(
    own_redis: RedisProcess, outage_processes: Callable[..., subprocess.Popen[bytes]]
) -> None:
    with real_serve(outage_processes, own_redis.url) as app:
        own_redis.kill()
        elapsed, reply = timed(lambda: app.webhook(hook("success", 8, datetime.now(UTC))))
        slash = app.slash("status", user="U1")
        own_redis.start()
        assert reply.status == 503 and elapsed < SLACK_DEADLINE
        assert "redeliver" in reply.json()["reason"]
        assert slash.status == 200 and UNAVAILABLE in slash.json()["text"]
        assert app.webhook(hook("success", 8, datetime.now(UTC))).json()["result"] == "queued"


GARBAGE = {
    "payload=x": (b"payload=x", {"Content-Type": "application/x-www-form-urlencoded"}),
    "json-array": (b"[1,2]", {"Content-Type": "application/json"}),
    "truncated-json": (b'{"type": "event_callback", "event": {', {"Content-Type": "application/json"}),
    "non-numeric-timestamp": (
        b"command=/pdm&text=status",
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
    ),
}


def test_garbage_before_the_slack_signature_is_a_401_from_the_real_server(
    own_redis: RedisProcess, outage_processes: Callable[..., subprocess.Popen[bytes]]
) -> None:
    with real_serve(outage_processes, own_redis.url) as app:
        answers = {name: http(app.url + "/slack/events", *case) for name, case in GARBAGE.items()}
    for name, reply in answers.items():
        assert (reply.status, reply.json()) == (401, {"error": "invalid request"}), name


# worker and cron ride out Redis ---------------------------------------------------------------------


def pause_via_worker(queue: Queue, env: str, reason: str) -> None:
    queue.enqueue("scheduler.jobs.pause", env, "U1", reason)


def test_worker_and_cron_ride_out_a_redis_restart_and_a_hang_and_process_jobs_again(
    own_redis: RedisProcess, gitlab: FakeGitLabApi, outage_processes: Callable[..., subprocess.Popen[bytes]]
) -> None:
    connection = Redis.from_url(own_redis.url)
    state, queue = RedisStore(connection), Queue(QUEUE_NAME, connection=connection)
    worker = outage_processes("worker")
    cron = outage_processes("cron", "--interval", "5")
    pause_via_worker(queue, "gstg", "before")
    wait_for(lambda: state.pause("gstg") is not None, timeout=20, what="job processed before the outage")
    publish(gitlab, {"20260105101500": NO_OP})
    gitlab.slow_next(4)  # Redis dies while a job runs: RQ's own loop then quits ("unhandled exception")
    queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED, datetime.now(UTC).isoformat(), "")
    wait_for(lambda: len(gitlab.requests) > 0, timeout=20, what="the on_deploy job talking to GitLab")

    own_redis.kill()
    time.sleep(12)  # an outage of several RQ and cron attempts
    assert worker.poll() is None and cron.poll() is None, "a process exited during the outage"
    own_redis.start()
    restarted = time.time()
    pause_via_worker(queue, "gprd", "after restart")
    wait_for(lambda: state.pause("gprd") is not None, timeout=45, what="job processed after the restart")
    print(f"\njob processed {time.time() - restarted:.1f} s after Redis restarted (12 s outage)")

    def cron_ticked_since_restart() -> bool:
        slots = [int(k.decode().rsplit(":", 1)[1]) for k in connection.keys("pdm:once:cron:tick:*")]
        return any(slot * 5 >= restarted for slot in slots)

    wait_for(cron_ticked_since_restart, timeout=45, what="a cron slot claimed after the restart")

    own_redis.hang()
    time.sleep(5)
    own_redis.wake()
    pause_via_worker(queue, "gstg", "after hang")
    wait_for(
        lambda: (note := state.pause("gstg")) is not None and note.reason == "after hang",
        timeout=45,
        what="job processed after the hang",
    )
    assert worker.poll() is None and cron.poll() is None


def test_a_worker_started_before_redis_waits_for_it_and_a_refused_password_exits_2(
    tmp_path: Path, gitlab: FakeGitLabApi, slack: FakeSlack
) -> None:
    server = RedisProcess(free_port(), tmp_path / "late-redis")
    server.workdir.mkdir()
    with pdm_processes(server.url, gitlab, slack, tmp_path, stderr=subprocess.PIPE) as start:
        worker = start("worker")
        time.sleep(3)
        assert worker.poll() is None, "the worker gave up on a Redis that was not up yet"
        server.start()
        try:
            connection = Redis.from_url(server.url)
            pause_via_worker(Queue(QUEUE_NAME, connection=connection), "gstg", "late")
            wait_for(
                lambda: RedisStore(connection).pause("gstg") is not None, timeout=45, what="job processed"
            )
        finally:
            assert server.proc is not None
            server.proc.terminate()
            server.proc.wait(timeout=10)

    refusing = RedisProcess(free_port(), tmp_path / "refusing", password="the-password")
    refusing.workdir.mkdir()
    refusing.start()
    wrong = f"redis://:not-the-password@127.0.0.1:{refusing.port}/0"
    try:
        with pdm_processes(wrong, gitlab, slack, tmp_path, stderr=subprocess.PIPE) as start:
            worker = start("worker")
            assert worker.wait(timeout=20) == 2
            assert worker.stderr is not None
            stderr = worker.stderr.read().decode()
    finally:
        assert refusing.proc is not None
        refusing.proc.terminate()
        refusing.proc.wait(timeout=10)
    assert "Redis refused worker" in stderr and "Traceback" not in stderr
    assert "not-the-password" not in stderr


# deployment events out of order ---------------------------------------------------------------------


def test_a_stale_running_event_after_success_leaves_no_deploy_marker(
    own_redis: RedisProcess, gitlab: FakeGitLabApi, outage_processes: Callable[..., subprocess.Popen[bytes]]
) -> None:
    publish(gitlab, {})
    with real_serve(outage_processes, own_redis.url) as app:
        outage_processes("worker")
        now = datetime.now(UTC).replace(microsecond=0)
        started = now - timedelta(minutes=10)
        assert app.webhook(hook("success", 42, now)).json()["result"] == "queued"
        assert app.webhook(hook("running", 42, started)).json()["result"] == "queued"

        def stale_audited() -> bool:
            return any(e.action == "deploy_event_stale" for e in app.state.audit_log(limit=50))

        wait_for(stale_audited, timeout=30, what="the stale running event audited")
        assert app.state.deployment_in_progress("gstg") is None
        assert not app.state.r.exists("pdm:env:gstg:deploying")
        (deployment,) = app.state.deployments("gstg")
        assert (deployment.deployment_id, str(deployment.status), deployment.sha) == (42, "success", DEPLOYED)
        status = json.dumps(app.slash("status gstg", user="U1").json())
        assert "deploy is in progress" not in status

        assert app.webhook(hook("running", 43, now)).json()["result"] == "queued"
        wait_for(lambda: app.state.deployment_in_progress("gstg") is not None, timeout=30, what="marker")
        left = app.state.deploy_marker_expires_in("gstg")
        assert left is not None and 3.9 * 3600 < left.total_seconds() <= 4 * 3600
        status = json.dumps(app.slash("status gstg", user="U1").json())
        assert "A deploy is in progress: deployment 43" in status and "expires by itself in 3h 5" in status
