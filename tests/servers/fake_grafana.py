"""A local stand-in for Grafana's HTTP API: `POST /api/annotations` as documented, recording requests.

Grafana answers `{"id": N, "message": "Annotation added"}`; a request without `Authorization: Bearer`
gets 401. `fail_next(status)` answers the next request with `status`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.servers.base import LocalServer, QuietHandler


@dataclass
class Annotation:
    """One request received."""

    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class FakeGrafana:
    """Recorded requests and pending faults."""

    requests: list[Annotation] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int) -> None:
        """Answer the next request with HTTP `status`."""
        with self._lock:
            self.failures.append(status)

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        body = json.loads(raw or b"null")
        with self._lock:
            self.requests.append(Annotation(path, body, headers))
            if self.failures:
                return self.failures.pop(0), {"message": "injected failure"}
            annotation_id = len(self.requests)
        if path != "/api/annotations":
            return 404, {"message": "Not found"}
        if not headers.get("Authorization", "").startswith("Bearer "):
            return 401, {"message": "Unauthorized"}
        return 200, {"id": annotation_id, "message": "Annotation added"}


def _handler(fake: FakeGrafana) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            self.answer(*fake.handle(self.path, dict(self.headers.items()), self.body()))

    return Handler


class FakeGrafanaServer(LocalServer):
    """Runs a FakeGrafana on a free port of 127.0.0.1 until `stop()`."""

    def __init__(self, fake: FakeGrafana | None = None) -> None:
        self.fake = fake or FakeGrafana()
        super().__init__(_handler(self.fake))
        self.fake.url = self.url
