"""Successful runs' timings per environment (`pdm:env:{env}:run_timings`), to learn estimates from.

Each entry is one `RunTiming` as JSON: `finished_at` (ISO 8601), `took` (seconds) and `parts`, a list of
`[nature, size class or null, estimate in seconds]`. The list keeps the newest `RUN_TIMINGS_KEPT` runs,
oldest first; an entry that does not decode is skipped (and logged), never fatal to a reader.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from scheduler.adapters.redis_codec import text
from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store.base import StoreBase
from scheduler.classify.model import SizeClass
from scheduler.natures import Nature
from scheduler.policy.learnt import RUN_TIMINGS_KEPT, RunTiming

log = logging.getLogger(__name__)


def queue_run_timing(pipe: Any, env: str, timing: RunTiming) -> None:
    """Queue, in the transaction `pipe`, the append of `timing` to `env`'s timings and the trim to the
    newest `RUN_TIMINGS_KEPT`."""
    key = Keys.env(env, "run_timings")
    pipe.rpush(key, timing_json(timing))
    pipe.ltrim(key, -RUN_TIMINGS_KEPT, -1)


def timing_json(timing: RunTiming) -> str:
    """The JSON text of `timing`."""
    return json.dumps(
        {
            "finished_at": timing.finished_at.isoformat(),
            "took": timing.took.total_seconds(),
            "parts": [
                [str(nature), str(size) if size is not None else None, estimate.total_seconds()]
                for nature, size, estimate in timing.parts
            ],
        },
        sort_keys=True,
    )


def timing_from_json(raw: Any) -> RunTiming:
    """Inverse of `timing_json`; raises ValueError, KeyError or TypeError on an unreadable entry."""
    data = json.loads(text(raw))
    return RunTiming(
        finished_at=datetime.fromisoformat(data["finished_at"]),
        took=timedelta(seconds=float(data["took"])),
        parts=tuple(
            (Nature(nature), None if size is None else SizeClass(size), timedelta(seconds=float(seconds)))
            for nature, size, seconds in data["parts"]
        ),
    )


class RunTimingQueries(StoreBase):
    """Reads of run timings."""

    def run_timings(self, env: str) -> list[RunTiming]:
        """The kept timings of `env`'s finished runs, oldest first (unreadable entries skipped)."""
        key = Keys.env(env, "run_timings")
        timings = []
        for raw in self.r.lrange(key, 0, -1):
            try:
                timings.append(timing_from_json(raw))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("skipping an unreadable run timing of %s (%s): %r", env, exc, raw)
        return timings


class RunTimingStore(RunTimingQueries):
    """Reads and writes of run timings."""

    def record_run_timing(self, env: str, timing: RunTiming) -> None:
        """Append `timing` to `env`'s timings, keeping the newest `RUN_TIMINGS_KEPT`, in one transaction."""
        with self.r.pipeline(transaction=True) as pipe:
            queue_run_timing(pipe, env, timing)
            pipe.execute()
