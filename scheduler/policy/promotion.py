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

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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
    here = {p.sha for p in packages}
    current = packages[-1].sha if packages else None
    since = first_upstream.get(current) if current is not None else None
    longest = delays[-1] + cap
    awaited = tuple(
        p
        for p in upstream_packages
        if p.sha not in here
        and p.deployed_at <= now
        and (since is None or p.deployed_at > since)
        and now < p.deployed_at + longest
    )
    return Promotion(now, upstream, tuple(delays), awaited, cap)
