"""Environment locks with fencing tokens, idempotency claims and the evaluation mutex."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from typing import Any

import redis

from scheduler.adapters.redis_codec import RELEASE_IF_OWNER, RENEW_IF_OWNER, dump, load, millis
from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store.base import StoreBase
from scheduler.records import Lock


class LockQueries(StoreBase):
    """Who holds an environment."""

    def lock_holder(self, env: str) -> Lock | None:
        """Who holds the lock of `env` now."""
        return load(Lock.from_dict, self.r.get(Keys.env(env, "lock")))

    def holds_lock(self, lock: Lock) -> bool:
        """True while `lock` is the current lock of its environment (check before acting on its behalf)."""
        return self.lock_holder(lock.environment) == lock


class LockStore(LockQueries):
    """Locks, claims and mutexes (TTLs run on the Redis server's clock)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self._renew = client.register_script(RENEW_IF_OWNER)
        self._release = client.register_script(RELEASE_IF_OWNER)

    def acquire_lock(self, env: str, owner: str, ttl: timedelta, at: datetime) -> Lock | None:
        """Take the lock of `env` for `ttl`; None if it is held. Every attempt draws a larger token."""
        token = int(self.r.incr(Keys.env(env, "lock:fence")))
        lock = Lock(environment=env, owner=owner, token=token, acquired_at=at)
        taken = self.r.set(Keys.env(env, "lock"), dump(lock), nx=True, px=millis(ttl))
        return lock if taken else None

    def renew_lock(self, lock: Lock, ttl: timedelta) -> bool:
        """Extend `lock` to `ttl` from now if it is still held by its owner."""
        return bool(self._renew(keys=[Keys.env(lock.environment, "lock")], args=[dump(lock), millis(ttl)]))

    def release_lock(self, lock: Lock) -> bool:
        """Release `lock` if it is still held by its owner."""
        return bool(self._release(keys=[Keys.env(lock.environment, "lock")], args=[dump(lock)]))

    def claim(self, key: str, ttl: timedelta) -> bool:
        """True for the first caller of `key` within `ttl` (webhook dedup, cron slots, pipeline creation)."""
        return bool(self.r.set(Keys.once(key), "1", nx=True, ex=max(1, int(ttl.total_seconds()))))

    def unclaim(self, key: str) -> None:
        """Give a claim back, so the work can be tried again."""
        self.r.delete(Keys.once(key))

    def mark(self, key: str, ttl: timedelta) -> None:
        """Set the claim `key` for `ttl` from now, whoever held it (a marker such as "outcome unknown")."""
        self.r.set(Keys.once(key), "1", ex=max(1, int(ttl.total_seconds())))

    def marked(self, key: str) -> bool:
        """True while the claim or marker `key` is held."""
        return bool(self.r.exists(Keys.once(key)))

    @contextmanager
    def mutex(self, name: str, ttl: timedelta, wait: timedelta) -> Iterator[bool]:
        """Hold `pdm:mutex:{name}` (expires after `ttl`), waiting up to `wait`; yields whether it is held."""
        lock = self.r.lock(
            Keys.mutex(name), timeout=ttl.total_seconds(), blocking_timeout=wait.total_seconds()
        )
        taken = bool(lock.acquire())
        try:
            yield taken
        finally:
            if taken:
                with suppress(redis.exceptions.LockError):
                    lock.release()
