"""Expected deploys: the policy's `deploy_schedule`, or a forecast from the environment's deploy history.

The forecast works on hour-of-week slots in the policy's zone. Looking back from the start of the current
hour, each of the `lookback` weeks that the history fully covers is a complete week; a slot is "deploy
expected" when a deploy started in it in at least `min_share` of those weeks (no forecast before one
complete week). The occurrence of a slot that holds `now` is clear once a deploy started in it: that
slot has been served this week. Expected deploys hold the whole hour of their slot.

Between forecast slots, deploys may still come at hours no slot explains. Runs are then kept within
`cap` (the policy's `deploy_duration`), so such a deploy waits about that long at most instead of behind
one run that holds the environment for hours; a longer migration runs alone (a soft deadline, unlike a
slot). That is the case
- while deploys are active: at least `_PACE_MIN` intervals between consecutive starts (each at most
  `_ACTIVE` long: nights and weekends without deploys are not a pace) were seen within `lookback`, and
  the last start is more recent than the 90th percentile of those intervals (this needs no complete
  week, so a fresh install is careful from its first day);
- on a day of the week that, in at least `min_share` of the complete weeks, saw a deploy at an hour that
  is not an expected slot (deploys at scattered times, e.g. a few at weekends).

Both shapes answer the same questions (`ExpectedDeploys`): is a deploy expected at an instant, when does
the next one start, when does the current stretch of expected deploys end, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Protocol
from zoneinfo import ZoneInfo

from scheduler.policy.windows import UTC, Window, format_duration

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LOOK = 8  # days: every weekly slot occurs within eight days of any instant
_ACTIVE = timedelta(hours=12)  # longer pauses between deploys are not a pace
_PACE_MIN = 8  # intervals needed before the pace counts
_PACE_Q = 0.9  # deploys are active while the last start is younger than this quantile of intervals


class ExpectedDeploys(Protocol):
    """When deploys are expected to hold the environment."""

    @property
    def zone(self) -> ZoneInfo:
        """The zone humans read the times in."""
        ...

    def is_open(self, at: datetime) -> bool:
        """Whether a deploy is expected at `at`."""
        ...

    def next_open(self, after: datetime) -> datetime | None:
        """The start of the next expected stretch strictly after `after`."""
        ...

    def closes_at(self, at: datetime) -> datetime | None:
        """The end of the expected stretch holding `at` (None: none, or never ends)."""
        ...

    def why(self, at: datetime) -> str:
        """Why a deploy is expected at `at`, for humans ("" when the policy says it all)."""
        ...

    def previous_end(self, at: datetime) -> datetime | None:
        """The end of the last expected stretch at or before `at` (None: none within a week)."""
        ...

    def firm(self, at: datetime) -> bool:
        """Whether the deploy expected at `at` is firm (a schedule or a slot) rather than a soft limit."""
        ...


@dataclass(frozen=True)
class ScheduledDeploys:
    """The configured `deploy_schedule`: each fire holds the environment for `deploy_duration`."""

    window: Window

    @property
    def zone(self) -> ZoneInfo:
        """The policy's zone."""
        return self.window.zone

    def is_open(self, at: datetime) -> bool:
        """Whether a scheduled deploy holds `at`."""
        return self.window.is_open(at)

    def next_open(self, after: datetime) -> datetime | None:
        """The next scheduled deploy after `after`."""
        return self.window.next_open(after)

    def closes_at(self, at: datetime) -> datetime | None:
        """When the scheduled deploy holding `at` ends."""
        return self.window.closes_at(at)

    def why(self, at: datetime) -> str:
        """Nothing to add: the policy names the schedule."""
        return ""

    def firm(self, at: datetime) -> bool:
        """Scheduled deploys are firm."""
        return True

    def previous_end(self, at: datetime) -> datetime | None:
        """The end of the last scheduled deploy at or before `at`."""
        ends = [e for _, e in self.window.openings(at - WEEK, at) if e is not None and e <= at]
        return max(ends, default=None)


@dataclass(frozen=True)
class Slot:
    """An hour of the week (local `weekday` 0 = Monday, `hour`) and how often a deploy started in it."""

    weekday: int
    hour: int
    seen: int


@dataclass(frozen=True)
class DeployForecast:
    """Deploys expected in hour-of-week slots, learnt from `weeks` complete weeks of history."""

    zone: ZoneInfo
    slots: tuple[Slot, ...]
    weeks: int
    served: datetime | None = None  # start of the current slot occurrence, when a deploy already came
    active_until: datetime | None = None  # the last start + the 90th percentile of recent intervals
    pace: timedelta | None = None  # that percentile
    intervals: int = 0
    busy_days: tuple[tuple[int, int], ...] = ()  # (local weekday, weeks) of days with scattered deploys
    cap: timedelta | None = None

    def _stretches(self, since: datetime) -> list[tuple[datetime, datetime]]:
        """Merged expected stretches meeting [since, since + 8 days), in order."""
        first = since.astimezone(self.zone).date() - timedelta(days=1)
        out: list[tuple[datetime, datetime]] = []
        for offset in range(_LOOK + 2):
            for start in _occurrences(self.slots, self.zone, first + timedelta(days=offset)):
                if start == self.served:
                    continue
                if out and start <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], start + HOUR))
                else:
                    out.append((start, start + HOUR))
        return [(s, e) for s, e in out if e > since]

    def is_open(self, at: datetime) -> bool:
        """Whether a deploy is expected at `at`."""
        at = at.astimezone(UTC)
        return any(s <= at < e for s, e in self._stretches(at)[:1])

    def next_open(self, after: datetime) -> datetime | None:
        """The start of the next expected stretch strictly after `after`, or `after + cap` where deploys
        may come at any moment."""
        after = after.astimezone(UTC)
        slot = next((s for s, _ in self._stretches(after) if s > after), None) if self.slots else None
        capped = after + self.cap if self.cap is not None and self._scattered(after) else None
        return min((t for t in (slot, capped) if t is not None), default=None)

    def _active(self, at: datetime) -> bool:
        return self.active_until is not None and at < self.active_until

    def _scattered(self, at: datetime) -> bool:
        return self._active(at) or self._busy(at) is not None

    def _busy(self, at: datetime) -> int | None:
        """Weeks that saw deploys on `at`'s day of the week, if it is a busy day."""
        day = at.astimezone(self.zone).weekday()
        return next((seen for weekday, seen in self.busy_days if weekday == day), None)

    def closes_at(self, at: datetime) -> datetime | None:
        """The end of the expected stretch holding `at` (None: not expected, or expected every hour)."""
        at = at.astimezone(UTC)
        stretches = self._stretches(at)
        if not stretches or stretches[0][0] > at:
            return None
        if len(self.slots) == 7 * 24 and self.served is None:
            return None
        return stretches[0][1]

    def firm(self, at: datetime) -> bool:
        """Slots are firm; the cap where deploys may come at any moment is soft."""
        return self.is_open(at)

    def previous_end(self, at: datetime) -> datetime | None:
        """The end of the last expected stretch at or before `at`."""
        at = at.astimezone(UTC)
        return max((e for _, e in self._stretches(at - WEEK) if e <= at), default=None)

    def why(self, at: datetime) -> str:
        """`deploys expected Sat 04:00–05:00 UTC: seen 4 of the last 4 weeks`, or why runs are capped."""
        local = at.astimezone(self.zone)
        if self.cap is not None and not self.is_open(at):
            cap = format_duration(self.cap)
            seen_that_day = self._busy(at)
            if seen_that_day is not None:
                return (
                    f"deploys came on {_DAY_NAMES[local.weekday()]} in {seen_that_day} of the last "
                    f"{self.weeks} weeks at hours too scattered to forecast: runs are kept within {cap}"
                )
            if self.active_until is not None and self.pace is not None and at - self.cap < self.active_until:
                return (
                    f"deploys are coming (9 in 10 of the last {self.intervals} intervals between them were "
                    f"at most {format_duration(self.pace)}): runs are kept within {cap}"
                )
        slot = next((s for s in self.slots if (s.weekday, s.hour) == (local.weekday(), local.hour)), None)
        seen = slot.seen if slot else 0
        end = (local + HOUR).astimezone(self.zone)
        return (
            f"deploys expected {_DAY_NAMES[local.weekday()]} {local:%H:%M}–{end:%H:%M} {local.tzname()}: "
            f"seen {seen} of the last {self.weeks} week{'s' if self.weeks != 1 else ''}"
        )


@lru_cache(maxsize=4096)
def _occurrences(slots: tuple[Slot, ...], zone: ZoneInfo, day: date) -> tuple[datetime, ...]:
    """UTC starts of the expected slots falling on local date `day`."""
    hours = sorted(s.hour for s in slots if s.weekday == day.weekday())
    return tuple(_localize(datetime.combine(day, time(hour)), zone) for hour in hours)


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _hour_start(at: datetime, zone: ZoneInfo) -> datetime:
    local = at.astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def forecast_deploys(
    starts: Sequence[datetime],
    now: datetime,
    *,
    lookback: timedelta,
    min_share: float,
    zone: ZoneInfo,
    observed_since: datetime | None = None,
    cap: timedelta | None = None,
) -> DeployForecast | None:
    """The forecast from deploy `starts` before `now` (None: not one complete week observed yet).

    `observed_since` is when recording began (default: the first start); weeks before it are not
    complete."""
    now = now.astimezone(UTC)
    past = sorted(s.astimezone(UTC) for s in starts if s <= now)
    since = observed_since if observed_since is not None else (past[0] if past else None)
    if since is None:
        return None
    anchor = _hour_start(now, zone)
    weeks = [k for k in range(1, int(lookback / WEEK) + 1) if anchor - k * WEEK >= since]
    recent = [s for s in past if s >= now - lookback]
    gaps = sorted(b - a for a, b in pairwise(recent) if b - a <= _ACTIVE)
    pace = gaps[min(len(gaps) - 1, int(len(gaps) * _PACE_Q))] if len(gaps) >= _PACE_MIN else None
    active = recent[-1] + pace if pace is not None else None
    if not weeks:
        if active is None or cap is None:
            return None
        return DeployForecast(zone, (), 0, None, active, pace, len(gaps), (), cap)
    seen: dict[tuple[int, int], set[int]] = {}
    oldest = anchor - weeks[-1] * WEEK
    for start in past:
        if oldest <= start < anchor:
            local = start.astimezone(zone)
            week = int((anchor - start) / WEEK) + 1
            seen.setdefault((local.weekday(), local.hour), set()).add(week)
    slots = tuple(
        Slot(weekday, hour, len(found))
        for (weekday, hour), found in sorted(seen.items())
        if len(found) >= min_share * len(weeks)
    )
    served = anchor if any(anchor <= s <= now for s in past) else None
    expected = {(slot.weekday, slot.hour) for slot in slots}
    scattered: dict[int, set[int]] = {}
    for (weekday, hour), found in seen.items():
        if (weekday, hour) not in expected:
            scattered.setdefault(weekday, set()).update(found)
    busy = tuple((d, len(w)) for d, w in sorted(scattered.items()) if len(w) >= min_share * len(weeks))
    return DeployForecast(zone, slots, len(weeks), served, active, pace, len(gaps), busy, cap)
