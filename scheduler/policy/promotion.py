"""Deploys promoted from the upstream environment: when a package reaches this environment after `requires`.

Packages usually travel the same road (staging, then production some time later). Each package of this
environment's recent history that the upstream environment deployed first gives one promotion delay: from
its upstream success to the start of its deploy here. When at least `_MIN_PAIRS` of them are seen and 9 in
10 of this environment's packages came that way, the delays say two things about the next deploy here:

- a package the upstream environment deployed after the one running here, and not deployed here yet, is
  expected from its upstream success plus the shortest of 9 in 10 delays, until the longest delay seen
  (plus a deploy's length) has passed — after that it was skipped (`awaited`, firm stretches);
- any other deploy needs a new upstream package first, so none starts here before `now` plus that delay
  (`room`, soft), nor, while no new upstream package comes, before any later instant plus that delay.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from scheduler.policy.windows import format_duration, format_time

if TYPE_CHECKING:
    from scheduler.policy.decision import DeployedPackage

_MIN_PAIRS = 8  # promotions seen before they count
_SHARE = 0.9  # of this environment's packages that must have come from upstream
_ONE_IN = 10  # 1 in 10 promotions may take less than the delay used


@dataclass(frozen=True)
class Promotion:
    """The promotion delays learnt at `now`, and the upstream packages awaiting promotion."""

    now: datetime
    upstream: str
    delays: tuple[timedelta, ...]  # shortest first
    awaited: tuple[DeployedPackage, ...]  # upstream successes not deployed here yet, oldest first
    cap: timedelta  # how long a deploy holds the environment

    @property
    def shortest(self) -> timedelta:
        """The delay 9 in 10 promotions took at least."""
        return self.delays[len(self.delays) // _ONE_IN]

    @property
    def longest(self) -> timedelta:
        """The longest delay seen."""
        return self.delays[-1]

    def stretches(self) -> list[tuple[datetime, datetime]]:
        """When the awaited packages are expected to hold the environment, merged, oldest first."""
        out: list[tuple[datetime, datetime]] = []
        for package in self.awaited:
            start = package.deployed_at + self.shortest
            end = package.deployed_at + self.longest + self.cap
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        return out

    def room(self, after: datetime) -> datetime:
        """No deploy of a package the upstream environment has not deployed yet starts before this, when
        none is deployed there by `after` either (a later look at the same packages)."""
        return max(self.now, after) + self.shortest

    def why_room(self) -> str:
        """Why nothing else is expected before `room`."""
        upstream, least = self.upstream, format_duration(self.shortest)
        return (
            f"no package awaits promotion from {upstream}, and 9 in 10 of the last {len(self.delays)} "
            f"promotions started at least {least} after {upstream} had the package"
        )

    def why_awaited(self, at: datetime, zone: ZoneInfo) -> str:
        """Which awaited package is expected at `at` (times in `zone`)."""
        for package in self.awaited:
            if package.deployed_at + self.shortest <= at < package.deployed_at + self.longest + self.cap:
                took = f"{format_duration(self.shortest)}–{format_duration(self.longest)}"
                return (
                    f"package {package.sha[:8]} awaits promotion from {self.upstream} (deployed there "
                    f"{format_time(package.deployed_at, zone)}; promotions took {took})"
                )
        return ""


def learn_promotion(
    packages: Sequence[DeployedPackage],
    starts: Sequence[datetime],
    upstream: str,
    upstream_packages: Sequence[DeployedPackage],
    now: datetime,
    *,
    lookback: timedelta,
    cap: timedelta,
) -> Promotion | None:
    """The promotion model from this environment's `packages` (successes, oldest first) and deploy
    `starts` (oldest first), and the upstream environment's `upstream_packages`, as of `now` (None: too
    few promotions seen, or packages here often do not come from upstream)."""
    learnt = _delays(packages, starts, upstream_packages, now, lookback)
    if learnt is None:
        return None
    delays, since = learnt
    longest = delays[-1] + cap  # after that, a package was skipped
    after = now - longest if since is None else max(since, now - longest)
    candidates = _deployed_within(upstream_packages, after, now)
    here = _shas(packages) if candidates else frozenset()
    awaited = tuple(p for p in candidates if p.sha not in here)
    return Promotion(now, upstream, delays, awaited, cap)


def _deployed_within(
    packages: Sequence[DeployedPackage], after: datetime, until: datetime
) -> Sequence[DeployedPackage]:
    """The packages deployed in (`after`, `until`], in their order: a bisection for a tuple in time order
    (its deploy times memoised: every decision between two deploys reads the same tuple)."""
    times = _times(packages) if isinstance(packages, tuple) else None
    if times is None:
        return [p for p in packages if after < p.deployed_at <= until]
    return packages[bisect_right(times, after) : bisect_right(times, until)]


def _times(packages: tuple[DeployedPackage, ...]) -> tuple[datetime, ...] | None:
    """The deploy times of `packages` when they are in time order (None otherwise), memoised per tuple."""
    hit = _TIMES.get(id(packages))
    if hit is None or hit[0] is not packages:
        if len(_TIMES) >= _KEPT:
            _TIMES.clear()
        times = tuple(p.deployed_at for p in packages)
        ordered = all(a <= b for a, b in pairwise(times))
        hit = _TIMES[id(packages)] = (packages, times if ordered else None)  # kept: its id stays unique
    return hit[1]


def _shas(packages: Sequence[DeployedPackage]) -> frozenset[str]:
    """The shas of `packages`, memoised per tuple."""
    if not isinstance(packages, tuple):
        return frozenset(p.sha for p in packages)
    hit = _SHAS.get(id(packages))
    if hit is None or hit[0] is not packages:
        if len(_SHAS) >= _KEPT:
            _SHAS.clear()
        hit = _SHAS[id(packages)] = (packages, frozenset(p.sha for p in packages))
    return hit[1]


_TIMES: dict[int, tuple[tuple[DeployedPackage, ...], tuple[datetime, ...] | None]] = {}
_SHAS: dict[int, tuple[tuple[DeployedPackage, ...], frozenset[str]]] = {}


def _delays(
    packages: Sequence[DeployedPackage],
    starts: Sequence[datetime],
    upstream_packages: Sequence[DeployedPackage],
    now: datetime,
    lookback: timedelta,
) -> tuple[tuple[timedelta, ...], datetime | None] | None:
    """The promotion delays seen as of `now`, shortest first, and when the upstream environment had the
    package running here (None: too few promotions, or packages here often do not come from upstream).
    Memoised for tuples in time order by the packages `now` lets count: every decision between two
    deploys reads the same ones."""
    cuts = _cuts(packages, starts, upstream_packages, now, lookback)
    if cuts is None:
        return _learn_delays(packages, starts, upstream_packages, now, lookback)
    known, key = cuts
    if key not in known:
        if len(known) >= _KEPT:
            known.clear()
        known[key] = _learn_delays(packages, starts, upstream_packages, now, lookback)
    return known[key]


def _cuts(
    packages: Sequence[DeployedPackage],
    starts: Sequence[datetime],
    upstream_packages: Sequence[DeployedPackage],
    now: datetime,
    lookback: timedelta,
) -> tuple[dict[tuple[int, int, int], _Learnt], tuple[int, int, int]] | None:
    """The answers known for these tuples and which of their packages count at `now` (None: not tuples
    in time order)."""
    if not (
        isinstance(packages, tuple) and isinstance(starts, tuple) and isinstance(upstream_packages, tuple)
    ):
        return None
    here, there = _times(packages), _times(upstream_packages)
    if here is None or there is None:
        return None
    key = (id(packages), id(starts), id(upstream_packages), lookback)
    hit = _SEEN.get(key)
    if hit is None or hit[0] is not packages or hit[1] is not starts or hit[2] is not upstream_packages:
        if len(_SEEN) >= _KEPT:
            _SEEN.clear()
        hit = _SEEN[key] = (packages, starts, upstream_packages, {})  # the tuples kept keep their ids unique
    return hit[3], (bisect_left(here, now - lookback), bisect_left(here, now), bisect_right(there, now))


_Learnt = tuple[tuple[timedelta, ...], datetime | None] | None
_SEEN: dict[
    tuple[int, int, int, timedelta],
    tuple[
        tuple[DeployedPackage, ...],
        tuple[datetime, ...],
        tuple[DeployedPackage, ...],
        dict[tuple[int, int, int], _Learnt],
    ],
] = {}
_KEPT = 16


def _learn_delays(
    packages: Sequence[DeployedPackage],
    starts: Sequence[datetime],
    upstream_packages: Sequence[DeployedPackage],
    now: datetime,
    lookback: timedelta,
) -> _Learnt:
    first_upstream: dict[str, datetime] = {}
    for package in upstream_packages:
        if package.deployed_at <= now:
            first_upstream.setdefault(package.sha, package.deployed_at)
    delays: list[timedelta] = []
    counted = 0
    for package in packages:
        if not now - lookback <= package.deployed_at < now:
            continue
        i = bisect_right(starts, package.deployed_at)
        if not i:
            continue
        counted += 1
        came = first_upstream.get(package.sha)
        if came is not None and came <= starts[i - 1]:
            delays.append(starts[i - 1] - came)
    if len(delays) < _MIN_PAIRS or len(delays) < _SHARE * counted:
        return None
    delays.sort()
    current = packages[-1].sha if packages else None
    return tuple(delays), first_upstream.get(current) if current is not None else None
