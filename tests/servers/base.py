"""What every fake HTTP server shares: a threaded stdlib server on a free port of 127.0.0.1 and a quiet
handler that reads the request body and writes JSON answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

# How often a serving loop looks at its shutdown flag: `stop()` waits for that (the stdlib's default, 0.5 s,
# would cost every test half a second per fake server).
POLL_INTERVAL = 0.02


class LocalServer:
    """Serves `handler` on a free port of 127.0.0.1 in a background thread, from `start()` to `stop()`
    (or for the duration of a `with` block); `url` is known as soon as it is built."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        )

    def start(self) -> Self:
        """Begin serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing, with the body reader and answer writer fakes need."""

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def body(self) -> bytes:
        """The raw request body (empty without Content-Length)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        """Send `payload` as JSON (a string too: it becomes a JSON string)."""
        self._write(status, json.dumps(payload).encode(), "application/json", headers or {})

    def answer_text(self, status: int, text: str, headers: Mapping[str, str] | None = None) -> None:
        """Send `text` as text/plain."""
        self._write(status, text.encode(), "text/plain", headers or {})

    def _write(self, status: int, data: bytes, content_type: str, headers: Mapping[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client already hung up (timeout tests)
