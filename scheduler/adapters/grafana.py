"""The Grafana adapter: run annotations through `POST /api/annotations` (Bearer service-account token).

A run gives two organisation annotations (no dashboard id: show them on any dashboard with an
annotation query on the tag `pdm`): a point when its pipeline starts, tagged `["pdm", env, "started"]`,
and a region from trigger to end when it ends, tagged `["pdm", env, outcome]`. Two POSTs rather than
one PATCHed region, so no annotation id has to travel from the executing worker to the polling one.
Failures are logged (never the token), counted as `pdm_api_errors_total{api="grafana"}` and swallowed:
an annotation never fails a run.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from scheduler.adapters.redis_telemetry import count_api_error
from scheduler.records import Run

log = logging.getLogger(__name__)

ANNOTATIONS_PATH = "/api/annotations"
STARTED = "started"


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class GrafanaAnnotations:
    """`scheduler.ports.RunAnnotations` for Grafana."""

    def __init__(self, url: str, token: str, *, timeout: float = 5.0) -> None:
        self._endpoint = url.rstrip("/") + ANNOTATIONS_PATH
        self._token = token
        self._timeout = timeout

    def run_started(self, run: Run, at: datetime) -> None:
        """A point annotation at the pipeline's start."""
        pipeline = f" (pipeline {run.pipeline_url})" if run.pipeline_url else ""
        self._post(
            {
                "time": _millis(at),
                "tags": ["pdm", run.environment, STARTED],
                "text": f"PDM run {run.id} started on {run.environment}: migrations up to "
                f"{run.up_to_version}{pipeline}",
            }
        )

    def run_ended(self, run: Run, at: datetime) -> None:
        """A region annotation from the run's trigger to its end, tagged with its outcome."""
        started = run.triggered_at or run.requested_at
        reason = f": {run.failure_reason}" if run.failure_reason else ""
        self._post(
            {
                "time": _millis(started),
                "timeEnd": _millis(at),
                "tags": ["pdm", run.environment, str(run.status)],
                "text": f"PDM run {run.id} on {run.environment} ended {run.status}{reason}",
            }
        )

    def _post(self, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self._endpoint,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            count_api_error("grafana", f"http_{exc.code}")
            log.warning("grafana annotation refused: HTTP %s", exc.code)
        except (urllib.error.URLError, OSError) as exc:
            count_api_error("grafana", "connection")
            log.warning("grafana annotation not sent: %s", type(exc).__name__)
