"""A local stand-in for Prometheus's HTTP API: `GET /api/v1/query?query=...` as documented.

Answers are set per query (`set_vector`, `set_scalar`, `set_answer` for any status and body); an
unknown query gets an empty vector, as Prometheus does for a metric that does not exist. A query
parameter that is missing gets Prometheus's 400 `bad_data` error. `delay` slows every answer down.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from tests.servers.base import LocalServer, QuietHandler

EVAL_TIME = 1768014000.0  # 2026-01-10T03:00:00Z


def success(result_type: str, result: Any) -> dict[str, Any]:
    """A successful query answer."""
    return {"status": "success", "data": {"resultType": result_type, "result": result}}


@dataclass
class Query:
    """One request received."""

    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class FakePrometheus:
    """Answers by query, recorded requests, and an optional delay."""

    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    requests: list[Query] = field(default_factory=list)
    delay: float = 0.0
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set_vector(self, query: str, *values: str) -> None:
        """Answer `query` with an instant vector of one sample per value (one series per instance)."""
        samples = [
            {"metric": {"instance": f"db-{i}:9187"}, "value": [EVAL_TIME, value]}
            for i, value in enumerate(values)
        ]
        self.set_answer(query, 200, success("vector", samples))

    def set_scalar(self, query: str, value: str) -> None:
        """Answer `query` with a scalar."""
        self.set_answer(query, 200, success("scalar", [EVAL_TIME, value]))

    def set_answer(self, query: str, status: int, body: Any) -> None:
        """Answer `query` with HTTP `status` and the JSON `body`."""
        with self._lock:
            self.answers[query] = (status, body)

    def handle(self, target: str, headers: dict[str, str]) -> tuple[int, Any]:
        split = urllib.parse.urlsplit(target)
        params = urllib.parse.parse_qs(split.query)
        with self._lock:
            self.requests.append(Query(split.path, params, headers))
            delay = self.delay
        if delay:
            time.sleep(delay)
        if split.path != "/api/v1/query":
            return 404, {"status": "error", "errorType": "not_found", "error": "page not found"}
        if "query" not in params:
            return 400, {"status": "error", "errorType": "bad_data", "error": 'invalid parameter "query"'}
        with self._lock:
            return self.answers.get(params["query"][0], (200, success("vector", [])))


def _handler(fake: FakePrometheus) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self.answer(*fake.handle(self.path, dict(self.headers.items())))

    return Handler


class FakePrometheusServer(LocalServer):
    """Runs a FakePrometheus on a free port of 127.0.0.1 until `stop()`."""

    def __init__(self, fake: FakePrometheus | None = None) -> None:
        self.fake = fake or FakePrometheus()
        super().__init__(_handler(self.fake))
        self.fake.url = self.url
