"""A local stand-in for Grafana's HTTP API: `POST /api/annotations` as documented, recording requests.

Grafana answers `{"id": N, "message": "Annotation added"}`; a request without `Authorization: Bearer`
gets 401. `fail_next(status)` answers the next request with `status`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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


class FakeGrafanaServer:
    """Runs a FakeGrafana on a free port of 127.0.0.1 until `stop()`."""

    def __init__(self, fake: FakeGrafana | None = None) -> None:
        self.fake = fake or FakeGrafana()
        fake_ref = self.fake

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, payload = fake_ref.handle(self.path, dict(self.headers.items()), raw)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.fake.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeGrafanaServer:
        """Begin serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
