"""`pdm-bot serve`: the web process on gunicorn (gthread workers), built programmatically."""

from __future__ import annotations

import gc
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from bot.app import app_from_settings
from bot.cli_support import guarded
from bot.logging import configure_logging
from bot.metrics import mark_process_dead
from scheduler.settings import Settings


def _child_exit(server: Any, worker: Any) -> None:
    mark_process_dead(worker.pid)


class Server(BaseApplication):  # type: ignore[misc]
    """Gunicorn serving an already-built WSGI app (built in the master, before the workers fork)."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """Options of the production server: gthread workers, Slack-friendly timeouts."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 30,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": None,
        "child_exit": _child_exit,
        "control_socket_disable": True,
    }


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: PDM_PORT, 3000).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True)
@guarded
def serve(host: str, port: int | None, workers: int, threads: int) -> None:
    """Serve /slack/events, /webhooks/gitlab, /healthz and /metrics.

    With more than one worker, set PROMETHEUS_MULTIPROC_DIR to an empty directory so /metrics
    aggregates every worker.
    """
    settings = Settings()
    configure_logging(settings)
    app = app_from_settings(settings)
    # The ~100k objects of the loaded app never die: keep them out of every later collection, so a full
    # collection in a worker takes well under a millisecond, not tens, while 8 requests wait (ack p99).
    gc.freeze()
    Server(app, gunicorn_options(host, port or settings.port, workers, threads)).run()
