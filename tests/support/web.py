"""Serve the real Flask app on a free port of 127.0.0.1 and talk to it like Slack and GitLab do."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from redis import Redis
from rq import Queue
from werkzeug.serving import make_server

from bot.app import QUEUE_NAME, create_app, deps_from
from bot.slack_client import UsergroupDirectory, make_web_client
from scheduler.adapters.redis_store import RedisStore
from scheduler.policy.model import Policy, load_policy
from scheduler.settings import Settings
from tests.servers.base import POLL_INTERVAL

SIGNING_SECRET = "test-signing-secret"
WEBHOOK_SECRET = "test-webhook-secret"
APPROVER = "U0APPROVER"
GROUP = "S0RELEASE"
POLICY = """
timezone: UTC
environments:
  - {name: gstg}
  - {name: gprd, requires: gstg}
windows:
  - {name: weekend, kind: allow, schedule: "0 0 * * 6", duration: 48h}
natures:
  no_op: {windows: [always], mode: auto}
  background_scheduling: {windows: [weekend], mode: auto}
  index_and_constraint: {windows: [weekend], mode: approval}
  data_migration: {windows: [weekend], mode: approval}
  ddl_cleanup: {windows: [weekend], mode: approval}
  unknown: {windows: [weekend], mode: manual}
approvers: {users: [U0APPROVER], usergroups: [S0RELEASE]}
"""


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature headers for `body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


@dataclass
class Reply:
    """An HTTP answer of the app."""

    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(url: str, data: bytes | None, headers: dict[str, str], method: str = "POST") -> Reply:
    """One real HTTP request; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read())


@dataclass
class Served:
    """The running app and its collaborators."""

    url: str
    state: RedisStore
    queue: Queue
    policy: Policy

    def slash(self, text: str, user: str = "U0RANDOM", **extra: str) -> Reply:
        fields = {
            "command": "/pdm",
            "text": text,
            "user_id": user,
            "channel_id": "C0RELEASE",
            "team_id": "T1",
            "response_url": extra.pop("response_url", "http://127.0.0.1:9/unused"),
            "trigger_id": "1.2.3",
            **extra,
        }
        body = urlencode(fields)
        return http(self.url + "/slack/events", body.encode(), sign(body))

    def click(self, action_id: str, run_id: str, user: str, response_url: str) -> Reply:
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T1"},
            "channel": {"id": "C0RELEASE"},
            "container": {"message_ts": "1.1"},
            "message": {"ts": "1.1"},
            "response_url": response_url,
            "trigger_id": "1.2.3",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "pdm_proposal_actions",
                    "value": run_id,
                    "type": "button",
                    "action_ts": "1.2",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return http(self.url + "/slack/events", body.encode(), sign(body))

    def event(self, payload: dict[str, Any], **headers: str) -> Reply:
        """A signed Events API delivery (JSON body), as Slack posts it."""
        body = json.dumps(payload)
        signed = {**sign(body), "Content-Type": "application/json", **headers}
        return http(self.url + "/slack/events", body.encode(), signed)

    def webhook(self, payload: Any, token: str | None = WEBHOOK_SECRET) -> Reply:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["X-Gitlab-Token"] = token
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return http(self.url + "/webhooks/gitlab", data, headers)

    def jobs(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(job.func_name, tuple(job.args)) for job in self.queue.get_jobs()]


def settings_for(redis_url: str, slack_api_url: str) -> Settings:
    return Settings(
        redis_url=redis_url,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_api_url,
        slack_channel="C0RELEASE",
        gitlab_webhook_secret=WEBHOOK_SECRET,
    )


@contextmanager
def serve_app(redis_url: str, slack_api_url: str, policy_text: str = POLICY) -> Iterator[Served]:
    """The real app (real Redis, real RQ queue, slack_sdk on `slack_api_url`) on a free port."""
    settings = settings_for(redis_url, slack_api_url)
    policy = load_policy(policy_text)
    connection = Redis.from_url(redis_url)
    state = RedisStore(connection)
    queue = Queue(QUEUE_NAME, connection=connection)
    client = make_web_client(settings)
    deps = deps_from(settings, policy, state=state, queue=queue, directory=UsergroupDirectory(client))
    app = create_app(settings, deps=deps, client=client)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
    )
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", state, queue, policy)
    finally:
        server.shutdown()


def now() -> datetime:
    return datetime.now(UTC)
