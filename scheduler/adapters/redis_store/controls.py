"""What operators set: pauses, holds, baselines; and the versions that succeeded per environment."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from scheduler.adapters.redis_codec import dump, load, text
from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store.base import StoreBase
from scheduler.records import Baseline, Note


def _pause_key(env: str | None) -> str:
    return Keys.named("pause:global") if env is None else Keys.env(env, "pause")


class ControlQueries(StoreBase):
    """Reads of pauses, holds, baselines and successes."""

    def pause(self, env: str | None) -> Note | None:
        """The pause set on exactly `env` (None: the global one)."""
        return load(Note.from_dict, self.r.get(_pause_key(env)))

    def effective_pause(self, env: str) -> Note | None:
        """The pause that stops `env`: its own, else the global one."""
        return self.pause(env) or self.pause(None)

    def holds(self) -> dict[str, Note]:
        """Held versions and why."""
        raw = self.r.hgetall(Keys.named("holds"))
        return {text(k): Note.from_dict(json.loads(text(v))) for k, v in raw.items()}

    def baseline(self, env: str) -> Baseline | None:
        """The baseline of `env`."""
        return load(Baseline.from_dict, self.r.hget(Keys.named("baselines"), env))

    def successes(self, env: str) -> dict[str, datetime]:
        """Versions that succeeded in `env` and when."""
        raw = self.r.hgetall(Keys.env(env, "succeeded"))
        return {text(k): datetime.fromisoformat(text(v)) for k, v in raw.items()}


class ControlStore(ControlQueries):
    """Reads and writes of pauses, holds, baselines and successes."""

    def set_pause(self, env: str | None, note: Note) -> None:
        """Pause `env` (None: every environment)."""
        self.r.set(_pause_key(env), dump(note))

    def clear_pause(self, env: str | None) -> bool:
        """Resume `env` (None: the global pause); False if it was not paused."""
        return bool(self.r.delete(_pause_key(env)))

    def set_hold(self, version: str, note: Note) -> None:
        """Hold a migration version in every environment."""
        self.r.hset(Keys.named("holds"), version, dump(note))

    def clear_hold(self, version: str) -> bool:
        """Release a hold; False if there was none."""
        return bool(self.r.hdel(Keys.named("holds"), version))

    def set_baseline(self, env: str, baseline: Baseline) -> None:
        """Set where pending detection of `env` starts when no run succeeded yet."""
        self.r.hset(Keys.named("baselines"), env, dump(baseline))

    def record_successes(self, env: str, versions: Iterable[str], at: datetime) -> None:
        """Record versions that finished successfully in `env` at `at`."""
        mapping = dict.fromkeys(versions, at.isoformat())
        if mapping:
            self.r.hset(Keys.env(env, "succeeded"), mapping=mapping)
