"""The Redis store of pdm-bot: one module per concern over one key schema (`../redis_keys.py`).

`RedisStore` joins the concerns: pending migrations, deployments, runs and approvals, operator controls
(pauses, holds, baselines, successes), finished runs' timings, locks/claims/mutexes, Slack message references
and the audit log.
`RedisStore.snapshot` answers the same reads from two round trips (`snapshot.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from scheduler.adapters.redis_outbox import Outbox
from scheduler.adapters.redis_store.audit import AuditStore
from scheduler.adapters.redis_store.controls import ControlStore
from scheduler.adapters.redis_store.deployments import DeploymentStore
from scheduler.adapters.redis_store.locks import LockStore
from scheduler.adapters.redis_store.pending import PendingStore
from scheduler.adapters.redis_store.runs import RunStore
from scheduler.adapters.redis_store.slack_refs import SlackRefStore
from scheduler.adapters.redis_store.snapshot import Snapshot, read_snapshot
from scheduler.adapters.redis_store.timings import RunTimingStore
from scheduler.adapters.redis_telemetry import Telemetry


class RedisStore(
    PendingStore,
    DeploymentStore,
    RunStore,
    RunTimingStore,
    ControlStore,
    LockStore,
    SlackRefStore,
    AuditStore,
):
    """Typed access to pdm-bot's Redis state; the connection is given by the caller."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """A store on a new connection to `url` (settings' `PDM_REDIS_URL`)."""
        return cls(redis.Redis.from_url(url))

    def ping(self) -> None:
        """Raise a `redis.RedisError` unless Redis answers: checked before a write whose fate must be
        known (a write whose answer times out may still be applied once a hung Redis resumes)."""
        self.r.ping()

    def snapshot(self, envs: Sequence[str], *, deployments: int = 50) -> Snapshot:
        """What the planner and the `/pdm` answers read about `envs` (and the global keys), in two
        round trips: the keys, then the run and deployment records they point to."""
        return read_snapshot(self.r, envs, deployments)

    def telemetry(self) -> Telemetry:
        """The counters behind `/metrics`, on this store's connection."""
        return Telemetry(self.r)

    def outbox(self) -> Outbox:
        """The Slack messages owed, on this store's connection."""
        return Outbox(self.r)


__all__ = ["RedisStore", "Snapshot"]
