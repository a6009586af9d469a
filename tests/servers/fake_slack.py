"""A local stand-in for the Slack Web API (and for response_url endpoints) that records every call.

Shapes follow Slack's documented responses for the methods pdm-bot uses. Fault injection, each for the
next `n` requests (in the order they were asked for; of the given `methods` only, when named):
`rate_limit(n, retry_after)` answers 429 + Retry-After, as Slack does when a method's tier is exceeded;
`fail_next(n, status)` answers a 5xx with a plain-text body, as a proxy in front of Slack does;
`refuse_next(n, error)` answers `ok: false` with Slack's `error` code. `heal()` drops the faults not
served yet. Every call records the status it got and when it came (`time.monotonic()`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.servers.base import LocalServer, QuietHandler


@dataclass
class Call:
    """One request received: the API method (or `response_url` path) and its decoded arguments."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    ok: bool = True
    at: float = field(default_factory=time.monotonic)


PASS = 0  # the status of a fault entry that lets its request through


@dataclass(frozen=True)
class Fault:
    """One faulty answer: HTTP status, body (JSON object or text) and headers."""

    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)
    methods: frozenset[str] | None = None  # None: every request

    def applies(self, method: str) -> bool:
        """Whether this fault answers a request of `method`."""
        return self.methods is None or method in self.methods


@dataclass
class FakeSlack:
    """Server state: recorded calls, usergroup members, faulty answers still to serve."""

    usergroups: dict[str, list[str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    port: int = 0
    _ts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        """Base URL to give slack_sdk (`PDM_SLACK_API_URL`)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "cmd") -> str:
        """A response_url that this server records."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def rate_limit(self, count: int, retry_after: int = 1, methods: Iterable[str] | None = None) -> None:
        """Answer the next `count` requests with HTTP 429 and `Retry-After: retry_after`."""
        headers = {"Retry-After": str(retry_after)}
        self._inject(count, Fault(429, {"ok": False, "error": "ratelimited"}, headers, _set(methods)))

    def fail_next(
        self, count: int, status: int = 503, methods: Iterable[str] | None = None, *, after: int = 0
    ) -> None:
        """Answer the next `count` requests (after `after` answered normally) with HTTP `status` and a
        plain-text body."""
        self._inject(after, Fault(PASS, "", {}, _set(methods)))
        self._inject(count, Fault(status, "upstream connect error", {}, _set(methods)))

    def refuse_next(self, count: int, error: str, methods: Iterable[str] | None = None) -> None:
        """Answer the next `count` requests with HTTP 200 and `{"ok": false, "error": error}`."""
        self._inject(count, Fault(200, {"ok": False, "error": error}, {}, _set(methods)))

    def heal(self) -> None:
        """Drop every fault not served yet."""
        with self._lock:
            self.faults.clear()

    def _inject(self, count: int, fault: Fault) -> None:
        with self._lock:
            self.faults.extend([fault] * count)

    def _take_fault(self, method: str) -> Fault | None:
        """The first fault for `method`, removed (call with the lock held)."""
        for index, fault in enumerate(self.faults):
            if fault.applies(method):
                return self.faults.pop(index)
        return None

    def delivered(self, method: str = "chat.postMessage") -> list[Call]:
        """Calls of `method` that Slack accepted (HTTP 200, `ok`)."""
        return [c for c in self.named(method) if c.status == 200 and c.ok]

    def named(self, method: str) -> list[Call]:
        """Recorded calls of `method` (e.g. `chat.postMessage`, `response_url`)."""
        return [c for c in self.calls if c.method == method]

    def next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"1767225600.{self._ts:06d}"

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """The JSON body Slack would answer."""
        if method == "chat.postMessage":
            ts = self.next_ts()
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "usergroups.users.list":
            group = str(args.get("usergroup", ""))
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "team_id": "T1", "bot_id": "BBOT"}
        return {"ok": False, "error": "unknown_method"}


def _set(methods: Iterable[str] | None) -> frozenset[str] | None:
    return None if methods is None else frozenset(methods)


def _decode(body: bytes, content_type: str, query: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(parse_qsl(query))
    if not body:
        return args
    if "json" in content_type:
        args.update(json.loads(body))
    else:
        for key, value in parse_qsl(body.decode()):
            args[key] = json.loads(value) if key in ("blocks", "attachments") else value
    return args


def _handler(fake: FakeSlack) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            args = _decode(self.body(), self.headers.get("Content-Type", ""), url.query)
            method = "response_url" if url.path.startswith("/response/") else url.path.rsplit("/", 1)[-1]
            with fake._lock:
                fault = fake._take_fault(method)
                if fault is not None and fault.status == PASS:
                    fault = None
                call = Call(method, args, dict(self.headers.items()))
                if fault is not None:
                    call.status, call.ok = fault.status, False
                fake.calls.append(call)
            if fault is not None and isinstance(fault.body, str):
                self.answer_text(fault.status, fault.body, fault.headers)
            elif fault is not None:
                self.answer(fault.status, fault.body, fault.headers)
            elif method == "response_url":
                self.answer_text(200, "ok")
            else:
                self.answer(200, fake.answer(method, args))

        do_GET = _serve
        do_POST = _serve

    return Handler


def serve_fake_slack(usergroups: dict[str, list[str]] | None = None) -> Iterator[FakeSlack]:
    """Run a FakeSlack on a free port of 127.0.0.1 for the duration of the generator."""
    fake = FakeSlack(usergroups=dict(usergroups or {}))
    with LocalServer(_handler(fake)) as server:
        fake.port = server.port
        yield fake
