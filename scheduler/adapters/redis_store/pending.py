"""Pending migrations per environment (`pdm:env:{env}:pending`)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from scheduler.adapters.redis_codec import dump, text
from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store.base import StoreBase
from scheduler.records import PendingRecord


class PendingQueries(StoreBase):
    """Reads of the pending sets."""

    def pending(self, env: str) -> list[PendingRecord]:
        """Pending migrations of `env`, by version."""
        raw = self.r.hgetall(Keys.env(env, "pending"))
        items = [PendingRecord.from_dict(json.loads(text(v))) for v in raw.values()]
        return sorted(items, key=lambda m: m.version)


class PendingStore(PendingQueries):
    """Reads and writes of the pending sets."""

    def set_pending(self, env: str, items: Iterable[PendingRecord]) -> None:
        """Replace the pending set of `env` atomically."""
        key = Keys.env(env, "pending")
        mapping = {m.version: dump(m) for m in items}
        with self.r.pipeline() as pipe:
            pipe.delete(key)
            if mapping:
                pipe.hset(key, mapping=mapping)
            pipe.execute()

    def add_pending(self, env: str, items: Iterable[PendingRecord]) -> None:
        """Insert or update pending migrations of `env`."""
        mapping = {m.version: dump(m) for m in items}
        if mapping:
            self.r.hset(Keys.env(env, "pending"), mapping=mapping)

    def remove_pending(self, env: str, versions: Iterable[str]) -> None:
        """Forget pending migrations of `env` (executed, or deleted from the repository)."""
        names = list(versions)
        if names:
            self.r.hdel(Keys.env(env, "pending"), *names)
