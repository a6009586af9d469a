"""`Snapshot`: the store's own reads, answered from replies fetched in two round trips.

What the planner and the `/pdm` answers read about several environments is fetched with two pipelines
(the keys, then the run and deployment records they point to) into `Prefetched`, a stand-in for the
Redis client that answers the commands those reads send. `Snapshot` is the store's read classes over it,
so a snapshot answers exactly like the store; a read of something the snapshot did not fetch raises
`ValueError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheduler.adapters.redis_codec import text
from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store.controls import ControlQueries
from scheduler.adapters.redis_store.deployments import DeploymentQueries
from scheduler.adapters.redis_store.locks import LockQueries
from scheduler.adapters.redis_store.pending import PendingQueries
from scheduler.adapters.redis_store.runs import RunQueries
from scheduler.adapters.redis_store.timings import RunTimingQueries

ENV_PARTS = ("pending", "deploying", "lock", "pause", "succeeded", "last_success")


class Prefetched:
    """Replies read once, answering GET/MGET/HGET/HGETALL/HMGET/PTTL/SMEMBERS/ZRANGE/ZREVRANGE/LRANGE
    (no I/O)."""

    def __init__(self, envs: Sequence[str], history_limit: int) -> None:
        self._envs = frozenset(envs)
        self.history_limit = history_limit
        self.strings: dict[str, Any] = {}
        self.hashes: dict[str, dict[str, Any]] = {}
        self.ttls: dict[str, int] = {}
        self.sets: dict[str, set[Any]] = {}
        self.scored: dict[str, list[tuple[Any, float]]] = {}
        self.ordered: dict[str, list[Any]] = {}
        self.lists: dict[str, list[Any]] = {}

    def _read(self, table: dict[str, Any], key: str) -> Any:
        if key in table:
            return table[key]
        env = Keys.env_of(key)
        if env is not None and env not in self._envs:
            raise ValueError(f"the snapshot has no environment {env!r}")
        raise ValueError(f"the snapshot did not read {key}")

    def get(self, key: str) -> Any:
        return self._read(self.strings, key)

    def mget(self, keys: Sequence[str]) -> list[Any]:
        return [self.get(k) for k in keys]

    def hgetall(self, key: str) -> dict[str, Any]:
        return dict(self._read(self.hashes, key))

    def hget(self, key: str, field: str) -> Any:
        return self.hgetall(key).get(field)

    def hmget(self, key: str, fields: Sequence[str]) -> list[Any]:
        known = self.hgetall(key)
        missing = [f for f in fields if f not in known]
        if missing:
            raise ValueError(f"the snapshot did not read {', '.join(missing)} of {key}")
        return [known[f] for f in fields]

    def pttl(self, key: str) -> int:
        return int(self._read(self.ttls, key))

    def smembers(self, key: str) -> set[Any]:
        return set(self._read(self.sets, key))

    def zrange(self, key: str, start: int, stop: int, withscores: bool = False) -> list[Any]:
        if (start, stop) != (0, -1) or not withscores:
            raise ValueError(f"the snapshot read all of {key} with scores only")
        return list(self._read(self.scored, key))

    def zrevrange(self, key: str, start: int, stop: int) -> list[Any]:
        members = self._read(self.ordered, key)
        if start != 0 or stop + 1 > self.history_limit:
            raise ValueError(f"the snapshot holds {self.history_limit} deployments, not {stop + 1}")
        return list(members[: stop + 1])

    def lrange(self, key: str, start: int, stop: int) -> list[Any]:
        if (start, stop) != (0, -1):
            raise ValueError(f"the snapshot read all of {key} only")
        return list(self._read(self.lists, key))


class Snapshot(PendingQueries, DeploymentQueries, LockQueries, ControlQueries, RunQueries, RunTimingQueries):
    """The store's reads of a few environments (and the global keys) as they were when fetched."""


def read_snapshot(client: Any, envs: Sequence[str], deployments: int = 50) -> Snapshot:
    """Fetch what `Snapshot` answers about `envs`: the keys, then the records they point to."""
    names = list(dict.fromkeys(envs))
    got = Prefetched(names, deployments)
    active_key, pause_key = Keys.named("runs:active"), Keys.named("pause:global")
    holds_key, baselines_key = Keys.named("holds"), Keys.named("baselines")
    with client.pipeline(transaction=False) as pipe:
        pipe.smembers(active_key)
        pipe.get(pause_key)
        pipe.hgetall(holds_key)
        pipe.hgetall(baselines_key)
        for env in names:
            pipe.hgetall(Keys.env(env, "pending"))
            pipe.get(Keys.env(env, "deploying"))
            pipe.pttl(Keys.env(env, "deploying"))
            pipe.get(Keys.env(env, "lock"))
            pipe.get(Keys.env(env, "pause"))
            pipe.hgetall(Keys.env(env, "succeeded"))
            pipe.get(Keys.env(env, "last_success"))
            pipe.zrevrange(Keys.env(env, "deployments:order"), 0, deployments - 1)
            pipe.zrange(Keys.env(env, "deploy_starts"), 0, -1, withscores=True)
            pipe.lrange(Keys.env(env, "run_timings"), 0, -1)
        replies = iter(pipe.execute())
    got.sets[active_key] = next(replies)
    got.strings[pause_key] = next(replies)
    got.hashes[holds_key] = {text(k): v for k, v in next(replies).items()}
    got.hashes[baselines_key] = {text(k): v for k, v in next(replies).items()}
    for env in names:
        got.hashes[Keys.env(env, "pending")] = next(replies)
        got.strings[Keys.env(env, "deploying")] = next(replies)
        got.ttls[Keys.env(env, "deploying")] = next(replies)
        got.strings[Keys.env(env, "lock")] = next(replies)
        got.strings[Keys.env(env, "pause")] = next(replies)
        got.hashes[Keys.env(env, "succeeded")] = next(replies)
        got.strings[Keys.env(env, "last_success")] = next(replies)
        got.ordered[Keys.env(env, "deployments:order")] = [text(i) for i in next(replies)]
        got.scored[Keys.env(env, "deploy_starts")] = next(replies)
        got.lists[Keys.env(env, "run_timings")] = next(replies)
    _read_records(client, got, names, active_key)
    return Snapshot(got)


def _read_records(client: Any, got: Prefetched, names: list[str], active_key: str) -> None:
    """The second round trip: the runs (active and last successful) and the deployment history."""
    last = [got.strings[Keys.env(env, "last_success")] for env in names]
    run_ids = list(dict.fromkeys(text(i) for i in [*got.sets[active_key], *last] if i is not None))
    history = {env: got.ordered[Keys.env(env, "deployments:order")] for env in names}
    with client.pipeline(transaction=False) as pipe:
        if run_ids:
            pipe.mget([Keys.run(i) for i in run_ids])
        for env in names:
            if history[env]:
                pipe.hmget(Keys.env(env, "deployments"), history[env])
        replies = iter(pipe.execute())
    if run_ids:
        got.strings.update(zip((Keys.run(i) for i in run_ids), next(replies), strict=True))
    for env in names:
        ids = history[env]
        got.hashes[Keys.env(env, "deployments")] = dict(zip(ids, next(replies), strict=True)) if ids else {}
