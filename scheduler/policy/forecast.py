"""Expected deploys: the policy's `deploy_schedule`, or a forecast from the environment's deploy history.

The forecast works on hour-of-week slots in the policy's zone. Looking back from the start of the current
hour, each of the `lookback` weeks that the history fully covers is a complete week; a slot is "deploy
expected" when a deploy started in it in at least `min_share` of those weeks (no forecast before one
complete week), and, unless seen in 3 of 4 of the weeks, when deploys at the environment's pace would see
it that often 1 time in 20 at most, or start in fewer than 1 in 10 of the hours of a week (`_steady`:
hours a random cadence sees in half the weeks by chance are not slots; the gaps between deploys bound
runs there). The occurrence of a slot that holds `now` is clear once a deploy started in it: that slot
has been served this week. So is every slot hour that ends before 9 in 10 of the gaps between deploy
starts within `lookback` would have ended after the last start: the deploy those hours stand for has
come (right after a deploy the next one is still far). Expected deploys hold the whole hour of their
slot, or with `slot_start: minute` the rest of it from the minute its deploys start at: below the
earliest start seen in it by the mean spacing of the starts seen (the next one falls below the earliest
of n 1 time in n + 1), from the hour's start when a single start was seen or the hour before is a slot
too.

Between forecast slots, deploys still come at hours no slot explains. The gaps between consecutive deploy
starts within `lookback` (at least `_PACE_MIN` of them; no complete week needed, so a fresh install is
careful from its first day) say how long the current gap is likely to last: of the gaps that already
lasted as long as the current one (`elapsed` since the last start), 19 in 20 lasted at least a certain
time more, and a run must end within that room (a soft deadline, unlike a slot). Fewer than `_EVIDENCE`
such gaps cannot say 19 in 20 (a quiet weekend after busy weekdays): the room then also ends at the next
hour of the week in which a deploy started in any complete week seen, and where 19 in 20 runs would stay
clear at the rate those few gaps ended, though never before the room right after a deploy. Nothing is
known once the current gap outlasts every seen one. A run longer than the room of any gap runs alone when its
chance to end before the next deploy is at least 9 in 10 of that chance right after a deploy, 3 in 5
when the backlog presses its window, 3 in 10 when it fills more than gaps can hold (`clear_chance`, the
planner's `_fairness`), so it delays a deploy seldom, and is never starved. Before a
firm stretch, it weighs the mean wait it would cause now against right after each expected stretch
(`expected_wait`: what is left of the run when the first deploy comes, over the comparable gaps).

Both shapes answer the same questions (`ExpectedDeploys`): is a deploy expected at an instant, when does
the next one start, when does the current stretch of expected deploys end, and why.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from itertools import accumulate, pairwise
from math import ceil, comb, floor, log
from typing import Protocol
from zoneinfo import ZoneInfo

from scheduler.policy.promotion import Promotion
from scheduler.policy.sliding import slid
from scheduler.policy.windows import UTC, Window, format_duration, format_time, micros_of

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LOOK = 8  # days: every weekly slot occurs within eight days of any instant
_PACE_MIN = 8  # gaps between deploys needed before they count
_SURE = 0.95  # a run must end where 19 in 20 comparable gaps had not ended yet
_EVIDENCE = 19  # comparable gaps needed before 19 in 20 of them say anything of the next one
_CALM = -log(_SURE)  # × the mean time to the next deploy: 19 in 20 runs end before one (constant rate)
_STEADY = 0.75  # a slot hour seen in 3 of 4 weeks is expected whatever the pace of deploys
_SPREAD = 0.1  # below this share of the hours of a week seeing deploys, chance makes no slot
_SERVED = 0.9  # slot hours that end before 9 in 10 of all gaps have ended are served by the last start


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
        """The start of the next expected stretch strictly after `after`, or `after` itself when the room
        the current gap between deploys leaves has already ended (a deploy may come at any moment)."""
        ...

    def next_change(self, after: datetime, length: timedelta) -> datetime | None:
        """The first instant strictly after `after` at which the room the current gap leaves, or the
        chance a run of `length` stays clear, may differ from what it is at `after` (None: never)."""
        ...

    def next_clear(self, after: datetime, length: timedelta, fair: float) -> datetime | None:
        """`next_change` for a run of `length` that may not start at `after` because the room is too short
        and its chance to stay clear is below `fair` of a fresh moment's: an instant no later than the
        first at which it may start (None: never)."""
        ...

    def next_after_deploy(self, after: datetime) -> datetime | None:
        """`next_open` for a gap that starts when an expected deploy ends at `after`: such a deploy may
        bring newer upstream packages along, so the room no promotion leaves does not count."""
        ...

    def next_firm(self, after: datetime) -> datetime | None:
        """The start of the next firm stretch (scheduled, a slot, an awaited promotion) after `after`:
        the soft room of a gap is measured from the last deploy, so it says nothing of later gaps."""
        ...

    def fresh_room(self) -> timedelta | None:
        """How long the environment stays clear after a deploy ends, 19 times in 20 (None: until the
        next firm stretch)."""
        ...

    def closes_at(self, at: datetime) -> datetime | None:
        """The end of the expected stretch holding `at` (None: none, or never ends)."""
        ...

    def why(self, at: datetime) -> str:
        """Why a deploy is expected at `at`, for humans ("" when the policy says it all)."""
        ...

    def why_clear(self, at: datetime) -> str:
        """Why no deploy is expected at `at` although deploys usually come then ("" when they do not)."""
        ...

    def set_aside(self) -> str:
        """Which hours that saw deploys are not expected deploys, and why ("" when none)."""
        ...

    def firm(self, at: datetime) -> bool:
        """Whether the deploy expected at `at` is firm (a schedule or a slot) rather than a soft limit."""
        ...

    def awaited(self, at: datetime) -> bool:
        """Whether the deploy expected at `at` brings a package awaiting promotion from upstream (it comes
        once: right after it the environment is at its clearest)."""
        ...

    def clear_chance(self, at: datetime, length: timedelta) -> tuple[float, float] | None:
        """For a run of `length` starting at `at` outside expected stretches: the chance that no deploy
        starts before it ends, and the same chance right after a deploy (None: nothing known)."""
        ...

    def expected_wait(self, at: datetime, length: timedelta, *, fresh: bool = False) -> timedelta:
        """How long the first deploy after `at` waits, on average, for a run of `length` starting at `at`
        outside expected stretches: the next firm stretch waits for what is left of the run when it
        starts, an earlier deploy comes as the comparable gaps between deploys ended. `fresh`: the gap
        starts with the end of a deploy at `at` (`deploy_duration` after its start), not at the last one."""
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

    def next_after_deploy(self, after: datetime) -> datetime | None:
        """The next scheduled deploy after `after`."""
        return self.window.next_open(after)

    def next_firm(self, after: datetime) -> datetime | None:
        """Every scheduled deploy is firm."""
        return self.window.next_open(after)

    def fresh_room(self) -> timedelta | None:
        """Nothing comes between scheduled deploys."""
        return None

    def next_change(self, after: datetime, length: timedelta) -> datetime | None:
        """A schedule does not change as time passes."""
        return None

    def next_clear(self, after: datetime, length: timedelta, fair: float) -> datetime | None:
        """A schedule does not change as time passes."""
        return None

    def closes_at(self, at: datetime) -> datetime | None:
        """When the scheduled deploy holding `at` ends."""
        return self.window.closes_at(at)

    def why(self, at: datetime) -> str:
        """Nothing to add: the policy names the schedule."""
        return ""

    def why_clear(self, at: datetime) -> str:
        """A schedule serves nothing early."""
        return ""

    def set_aside(self) -> str:
        """A schedule learns no hours."""
        return ""

    def firm(self, at: datetime) -> bool:
        """Scheduled deploys are firm."""
        return True

    def awaited(self, at: datetime) -> bool:
        """A schedule knows no packages."""
        return False

    def clear_chance(self, at: datetime, length: timedelta) -> tuple[float, float] | None:
        """Nothing is known between scheduled deploys."""
        return None

    def expected_wait(self, at: datetime, length: timedelta, *, fresh: bool = False) -> timedelta:
        """What is left of the run when the next scheduled deploy starts."""
        due = self.window.next_open(at)
        return max(at + length - due, timedelta(0)) if due is not None else timedelta(0)


@dataclass(frozen=True)
class Slot:
    """An hour of the week (local `weekday` 0 = Monday, `hour`), how often a deploy started in it and,
    with `slot_start: minute`, the `minute` of the hour its deploys are expected from (`_earliest`)."""

    weekday: int
    hour: int
    seen: int
    minute: int = 0


class _Timeline:
    """The merged expected stretches of weekly slots, built day by day as queries reach them (from
    eight days before the first query), searched by bisection."""

    def __init__(self, zone: ZoneInfo, hours: _WeekHours, served: datetime | None) -> None:
        self._zone = zone
        self._hours = hours
        self._served = served
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []
        self._next: date | None = None  # first local date not covered yet
        self._safe: datetime | None = None  # queries before this instant need no more days

    def _cover(self, at: datetime) -> None:
        if self._safe is not None and at < self._safe:
            return
        day = at.astimezone(self._zone).date()
        if self._next is None:
            self._next = day - timedelta(days=_LOOK)
        while self._next <= day + timedelta(days=_LOOK):
            self._add_day(self._next)
            self._next += timedelta(days=1)
        self._safe = _localize(datetime.combine(self._next - timedelta(days=_LOOK), time()), self._zone)

    def _add_day(self, day: date) -> None:
        """Append the day's stretches; one that starts by the end of the last stretch extends it (as
        its slot hours one by one would)."""
        for start, end in _day_stretches(self._zone, day, self._hours[day.weekday()], self._served):
            if self._ends and start <= self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], end)
            else:
                self._starts.append(start)
                self._ends.append(end)

    def holding(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The stretch holding `at`, if any."""
        self._cover(at)
        i = bisect_right(self._starts, at) - 1
        return (self._starts[i], self._ends[i]) if i >= 0 and at < self._ends[i] else None

    def next_start(self, after: datetime) -> datetime | None:
        """The first stretch start strictly after `after` (within eight days)."""
        self._cover(after)
        i = bisect_right(self._starts, after)
        if i < len(self._starts) and self._starts[i] <= after + timedelta(days=_LOOK):
            return self._starts[i]
        return None


_DayHours = tuple[tuple[int, int], ...]  # (hour, the minute its expected stretch starts at), by hour
_WeekHours = tuple[_DayHours, ...]  # by local weekday


@lru_cache(maxsize=4096)
def _day_starts(zone: ZoneInfo, day: date, hours: _DayHours) -> tuple[tuple[datetime, datetime], ...]:
    """The UTC starts of the slot `hours` of local `day` and of their expected stretches (shared by the
    timelines of every slot set and served hour)."""
    out = []
    for hour, minute in hours:
        start = _localize(datetime.combine(day, time(hour)), zone)
        out.append((start, start + timedelta(minutes=minute)))
    return tuple(out)


def _day_stretches(
    zone: ZoneInfo, day: date, hours: _DayHours, served: datetime | None
) -> tuple[tuple[datetime, datetime], ...]:
    """The slot hours of local `day` merged into stretches (touching ones join), without the served
    occurrence; shared by every timeline with the same hours that day."""
    starts = _day_starts(zone, day, hours)
    return _merged_day(starts, served if any(served == hour for hour, _ in starts) else None)


@lru_cache(maxsize=4096)
def _merged_day(
    starts: tuple[tuple[datetime, datetime], ...], served: datetime | None
) -> tuple[tuple[datetime, datetime], ...]:
    out: list[tuple[datetime, datetime]] = []
    for hour, start in starts:
        if hour == served:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hour + HOUR))
        else:
            out.append((start, hour + HOUR))
    return tuple(out)


def _weekly_hours(slots: tuple[Slot, ...]) -> _WeekHours:
    """The slot hours of each weekday with the minute each one's expected stretch starts at: the slot's
    `minute` (0 unless `slot_start: minute`), or its start when the hour before is a slot too (a deploy
    then holds the environment from that hour on). Memoised per slot tuple object (`_slots` hands out the
    same one while the learnt slots stay the same)."""
    hit = _HOURS.get(id(slots))
    if hit is None or hit[0] is not slots:
        if len(_HOURS) >= _HOURS_KEPT:
            _HOURS.clear()
        known = {(slot.weekday, slot.hour) for slot in slots}
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for slot in slots:
            before = (slot.weekday, slot.hour - 1) if slot.hour else ((slot.weekday - 1) % 7, 23)
            minute = 0 if before in known else slot.minute
            days[slot.weekday].append((slot.hour, minute))
        hours = tuple(tuple(sorted(day)) for day in days)
        hit = _HOURS[id(slots)] = (slots, hours)  # the tuple kept keeps its id unique
    return hit[1]


_HOURS: dict[int, tuple[tuple[Slot, ...], _WeekHours]] = {}
_HOURS_KEPT = 1024


@lru_cache(maxsize=64)
def _timeline_for(zone: ZoneInfo, hours: _WeekHours, served: datetime | None) -> _Timeline:
    """One timeline per slot set (forecasts of consecutive decisions share it)."""
    return _Timeline(zone, hours, served)


class _Shared:
    """What a forecast derives without its promotion, shared with the copies `forecast_deploys` completes
    with one (every decision of the hour reads the same forecast): the slot stretch holding an instant,
    the next one after it, the room of the gap at it and why, the slot hour's words, the seen hours and
    the tails of the gaps."""

    def __init__(self) -> None:
        self.holding: dict[datetime, tuple[datetime, datetime] | None] = {}
        self.next_slot: dict[datetime, datetime | None] = {}
        self.gap_room: dict[datetime, datetime | None] = {}  # UTC instants only: the room adds to them
        self.why_room: dict[tuple[datetime, datetime], str] = {}
        self.slot_hour: dict[tuple[datetime, str], str] = {}
        self.seen_hours: tuple[Slot, ...] | None = None
        self.tails: tuple[timedelta, ...] | None = None


@dataclass(frozen=True)
class DeployForecast:
    """Deploys expected in hour-of-week slots, learnt from `weeks` complete weeks of history."""

    zone: ZoneInfo
    slots: tuple[Slot, ...]
    weeks: int
    served: datetime | None = None  # start of the current slot occurrence, when a deploy already came
    gaps: tuple[timedelta, ...] = ()  # between consecutive starts within lookback, shortest first
    last: datetime | None = None  # the last start
    cap: timedelta | None = None  # the policy's deploy_duration: how long a deploy holds
    promotion: Promotion | None = None  # packages promoted from the upstream environment
    cleared: datetime | None = None  # slot hours ending by then are served by the last start
    history: tuple[datetime, ...] = field(default=(), repr=False)  # the starts the slots come from
    anchor: datetime | None = None  # the hour they were learnt at
    unsteady: int = 0  # hours seen in min_share of the weeks, no more often than the pace of deploys says
    pace: float = 0.0  # the share of the hours of a week that saw a deploy, each complete week
    shared: _Shared = field(default_factory=_Shared, repr=False, compare=False)  # kept by `replace`

    @property
    def seen_hours(self) -> tuple[Slot, ...]:
        """The hours of the week in which a deploy started in any complete week (learnt when first asked:
        only rooms with few comparable gaps need them)."""
        shared = self.shared
        if shared.seen_hours is None:
            shared.seen_hours = ()
            if self.weeks and self.anchor is not None and self.gaps:
                slots, _ = _learnt(self.history, self.anchor, self.zone, self.weeks, 1 / self.weeks)
                shared.seen_hours = slots
        return shared.seen_hours

    def _holding(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The expected slot stretch holding `at`, without the hours the last deploy served."""
        memo = self.shared.holding
        if at in memo:
            return memo[at]
        cleared = self.cleared
        span = None if cleared is not None and at < cleared else self._timeline.holding(at)
        if span is not None and cleared is not None and span[0] < cleared:
            span = cleared, span[1]
        memo[at] = span
        return span

    def _next_slot(self, after: datetime) -> datetime | None:
        """The start of the next expected slot stretch strictly after `after`, without the hours the
        last deploy served."""
        memo = self.shared.next_slot
        if after not in memo:
            memo[after] = self._find_next_slot(after)
        return memo[after]

    def _find_next_slot(self, after: datetime) -> datetime | None:
        if not self.slots:
            return None
        cleared = self.cleared
        if cleared is None or after >= cleared:
            return self._timeline.next_start(after)
        held = self._timeline.holding(cleared)
        if held is not None and held[0] < cleared:
            return cleared
        start = self._timeline.next_start(after)
        while start is not None and start < cleared:  # a stretch that ends by `cleared`
            start = self._timeline.next_start(start)
        return start

    @cached_property
    def _stretches(self) -> list[tuple[datetime, datetime]]:
        return self.promotion.stretches() if self.promotion is not None else []

    def _awaited(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The stretch of an awaited promotion holding `at`, if any."""
        stretches = self._stretches
        return next((s for s in stretches if s[0] <= at < s[1]), None) if stretches else None

    @cached_property
    def _seen(self) -> dict[tuple[int, int], int]:
        return {(s.weekday, s.hour): s.seen for s in self.slots}

    @cached_property
    def _seen_any(self) -> dict[tuple[int, int], int]:
        return {(s.weekday, s.hour): s.seen for s in self.seen_hours}

    @cached_property
    def _timeline(self) -> _Timeline:
        return _timeline_for(self.zone, _weekly_hours(self.slots), self.served)

    def is_open(self, at: datetime) -> bool:
        """Whether a deploy is expected at `at` (memoised: a search step asks up to four times)."""
        memo = self._opens
        found = memo.get(at)
        if found is None:
            utc = at.astimezone(UTC)
            found = memo[at] = self._holding(utc) is not None or self._awaited(utc) is not None
        return found

    @cached_property
    def _opens(self) -> dict[datetime, bool]:
        return {}

    def next_open(self, after: datetime) -> datetime | None:
        """The start of the next expected stretch strictly after `after`, or the end of the room the
        current gap between deploys likely leaves (memoised: a search asks twice per step)."""
        memo = self._next_opens
        if after in memo:
            return memo[after]
        at = after.astimezone(UTC)
        firm, room = self.next_firm(after), self._room(at, at)
        found = memo[after] = min((t for t in (firm, room) if t is not None), default=None)
        return found

    def next_after_deploy(self, after: datetime) -> datetime | None:
        """`next_open` with the room no promotion leaves as of now only (a deploy ending at `after` may
        bring newer upstream packages along)."""
        at = after.astimezone(UTC)
        firm, room = self.next_firm(after), self._room(at, self.promotion.now if self.promotion else at)
        return min((t for t in (firm, room) if t is not None), default=None)

    @cached_property
    def _next_opens(self) -> dict[datetime, datetime | None]:
        return {}

    def next_change(self, after: datetime, length: timedelta) -> datetime | None:
        """The next instant a seen gap ends (which gaps are comparable changes), or ends `length` after a
        start (the chance a run of `length` stays clear changes), or the hour of the week that saw
        deploys holding `after` ends, or the hours the last deploy served end. In between, the room the
        gap leaves after a start shrinks: a run that does not fit at `after` does not fit before then."""
        if self.last is None:
            return None
        after, cleared = after.astimezone(UTC), self.cleared
        found = []
        if cleared is not None and after < cleared:
            found.append(cleared)
        elif self.seen_hours and (held := self._seen_timeline.holding(after)) is not None:
            found.append(held[1])
        elapsed, gaps = after - self.last, self.gaps
        ended = bisect_right(gaps, elapsed)
        if ended < len(gaps):
            found.append(self.last + gaps[ended])
        outlasted = bisect_right(gaps, elapsed + length)
        if outlasted < len(gaps):
            found.append(self.last + gaps[outlasted] - length)
        return min(found, default=None)

    def next_clear(self, after: datetime, length: timedelta, fair: float) -> datetime | None:
        """`next_change` without the instants at which the run still may not start: the ends of seen
        gaps it outlasts (its chance only falls), and the ends of seen gaps at which neither its chance
        reaches `fair` of a fresh moment's nor the room fits it (between them the room left only
        shrinks). The end of the room is one of those gap ends, or slides with the clock. With too few
        comparable gaps for the 19-in-20 room (the seen hours then bound it): `next_change`, or the end
        of the room if sooner."""
        if self.last is None or self.cap is None:
            return self._next_change_or_open(after, length)
        after = after.astimezone(UTC)
        gaps, last, n = self.gaps, self.last, len(self.gaps)
        i = bisect_right(gaps, after - last)
        if n - i < _EVIDENCE:
            return self._next_change_or_open(after, length)
        firm = self.next_firm(after)  # no firm stretch starts before it: none holds in between
        cleared = self.cleared if self.cleared is not None and after < self.cleared else None
        held = self._seen_timeline.holding(after) if cleared is None and self.seen_hours else None
        limits = [s for s in (firm, cleared, held[1] if held is not None else None) if s is not None]
        limit = min(limits, default=None)
        while True:  # i < n: at least _EVIDENCE gaps are longer than the elapsed time
            at = last + gaps[i]
            if limit is not None and at >= limit:
                return limit
            i = bisect_right(gaps, gaps[i], lo=i)
            if n - i < _EVIDENCE:
                return at  # the room is bounded otherwise from here: a full look
            room = self._room(at, at)
            if room is not None and (room >= at + length or (firm is not None and room >= firm)):
                return at  # it may fit, or the deploy due is the firm stretch
            chances = self.clear_chance(at, length)
            if chances is None or chances[0] >= fair * chances[1]:
                return at

    def _next_change_or_open(self, after: datetime, length: timedelta) -> datetime | None:
        found = (self.next_change(after, length), self.next_open(after))
        return min((t for t in found if t is not None and t > after), default=None)

    def next_firm(self, after: datetime) -> datetime | None:
        """The next slot stretch or awaited promotion strictly after `after`."""
        after = after.astimezone(UTC)
        slot, stretches = self._next_slot(after), self._stretches
        awaited = next((s for s, _ in stretches if s > after), None) if stretches else None
        return min((t for t in (slot, awaited) if t is not None), default=None)

    def fresh_room(self) -> timedelta | None:
        """The room of a gap right after a deploy (`cap` after its start): where 19 in 20 of the seen
        gaps had not ended."""
        return self._fresh

    @cached_property
    def _fresh(self) -> timedelta | None:
        if self.cap is None or not self.gaps:
            return None
        longer = self._longer(self.cap)
        return self.gaps[len(self.gaps) - ceil(_SURE * longer)] - self.cap if longer else timedelta(0)

    @property
    def _tails(self) -> tuple[timedelta, ...]:
        """`_tails[i]`: the sum of the gaps from the i-th shortest on."""
        shared = self.shared
        if shared.tails is None:
            shared.tails = tuple(accumulate(reversed(self.gaps), initial=timedelta(0)))[::-1]
        return shared.tails

    def _longer(self, elapsed: timedelta) -> int:
        """How many seen gaps lasted longer than `elapsed`."""
        return len(self.gaps) - bisect_right(self.gaps, elapsed)

    def _room(self, after: datetime, looked: datetime) -> datetime | None:
        """Where 19 in 20 of the seen gaps as long as the current one at `after` had not ended yet; not
        before a package not deployed upstream by `looked` can be promoted (with a promotion model)."""
        gap = self._gap_room(after)
        promotion = self.promotion if self.cap is not None else None  # `cap` None: no soft rooms
        if promotion is None:
            return gap
        promoted = promotion.room(looked)
        return gap if promoted <= after or (gap is not None and gap >= promoted) else promoted

    def _promoted_room(self, at: datetime) -> bool:
        """Whether a room ends at `at` because no package could be promoted before then (a look
        `shortest` before `at`, when the room of the gap ended sooner)."""
        promotion = self.promotion if self.cap is not None else None
        if promotion is None:
            return False
        looked = at - promotion.shortest
        if looked < promotion.now:
            return False
        gap = self._gap_room(looked)
        return gap is None or gap < at

    def _gap_room(self, after: datetime) -> datetime | None:
        if after.tzinfo is not UTC:
            return self._find_gap_room(after)
        memo = self.shared.gap_room
        if after not in memo:
            memo[after] = self._find_gap_room(after)
        return memo[after]

    def _find_gap_room(self, after: datetime) -> datetime | None:
        if self.last is None or after < self.last:
            return None
        longer = self._longer(after - self.last)
        if not longer:  # longer than every seen gap: a deploy may come at any moment
            return after + self.cap if self.cap is not None else None
        room = self.last + self.gaps[len(self.gaps) - ceil(_SURE * longer)]
        if longer >= _EVIDENCE:
            return room
        # Too few gaps this long to hold 19 in 20: the rate at which they ended bounds the run, and so
        # does the next hour of the week that saw a deploy.
        exposure = self._tails[len(self.gaps) - longer] - longer * (after - self.last)
        fresh = self._fresh or timedelta(0)
        calm = timedelta(minutes=floor(exposure * (_CALM / longer) / timedelta(minutes=1)))
        room = min(room, after + max(calm, fresh))
        seen = self._seen_hour(after)
        return room if seen is None else min(room, seen)

    def _seen_hour(self, after: datetime) -> datetime | None:
        """The start of the next hour of the week (from `after`, or `after` itself inside one) in which a
        deploy started in any complete week seen, without the hours the last deploy served."""
        if not self.seen_hours:
            return None
        timeline = self._seen_timeline
        start = max(after, self.cleared) if self.cleared is not None else after
        held = timeline.holding(start)
        if held is not None:
            return start
        return timeline.next_start(start)

    @cached_property
    def _seen_timeline(self) -> _Timeline:
        return _timeline_for(self.zone, _weekly_hours(self.seen_hours), self.served)

    def clear_chance(self, at: datetime, length: timedelta) -> tuple[float, float] | None:
        """The share of the seen gaps as long as the current one at `at` that outlasted a run of
        `length` from `at`, and that share for a run starting when a deploy ends (`cap` after it)."""
        if self.last is None or at < self.last or self.cap is None:
            return None
        elapsed, fresh = at - self.last, self.cap
        now, then = self._longer(elapsed), self._longer(fresh)
        if not now or not then:
            return None
        return self._longer(elapsed + length) / now, self._longer(fresh + length) / then

    def expected_wait(self, at: datetime, length: timedelta, *, fresh: bool = False) -> timedelta:
        """The mean over the seen gaps as long as the current one (`fresh`: as a deploy's `cap`) of what
        is left of the run when the first deploy comes: the one ending that gap, or the next firm
        stretch. Beyond every seen gap a deploy may come at once; without seen gaps only firm stretches
        count."""
        at = at.astimezone(UTC)
        firm = self.next_firm(at)
        cut = min(length, firm - at) if firm is not None else length
        alone = length - cut  # what is left when the firm stretch starts (0 when it starts later)
        if self.cap is None or self.last is None or at < self.last:
            return alone
        elapsed = self.cap if fresh else at - self.last
        gaps, first = self.gaps, bisect_right(self.gaps, elapsed)
        longer = len(gaps) - first
        if not longer:
            return length
        cuts = bisect_left(gaps, elapsed + cut, lo=first)  # gaps that end before `cut` into the run
        early = (cuts - first) * (length + elapsed) - (self._tails[first] - self._tails[cuts])
        return (early + (len(gaps) - cuts) * alone) / longer

    def closes_at(self, at: datetime) -> datetime | None:
        """The end of the expected stretch holding `at` (None: not expected, or expected every hour)."""
        at = at.astimezone(UTC)
        awaited = self._awaited(at)
        span = self._holding(at)
        if span is None or (len(self.slots) == 7 * 24 and self.served is None):
            return awaited[1] if awaited is not None else None
        return span[1] if awaited is None else max(span[1], awaited[1])

    def firm(self, at: datetime) -> bool:
        """Slots and awaited promotions are firm; the room a gap between deploys leaves is soft."""
        return self.is_open(at)

    def awaited(self, at: datetime) -> bool:
        """Whether a package awaiting promotion is expected at `at`."""
        return self._awaited(at.astimezone(UTC)) is not None

    def why_clear(self, at: datetime) -> str:
        """`deploys usually start Sat 10:00–11:00 UTC: seen 2 of the last 4 weeks; the one that started
        Sat 09:20 UTC served that hour`, when `at` is in a slot hour the last deploy served."""
        at = at.astimezone(UTC)
        if self.cleared is None or self.last is None or at >= self.cleared:
            return ""
        if self._timeline.holding(at) is None:
            return ""
        return (
            f"{self._slot_hour(at, 'deploys usually start')}; the one that started "
            f"{format_time(self.last, self.zone)} served that hour"
        )

    def _thin(self, at: datetime) -> bool:
        """Whether the room ending at `at` is an hour of the week that saw deploys (too few gaps as long
        as the current one to trust 19 in 20)."""
        if self.last is None or self._longer(at - self.last) >= _EVIDENCE or not self.seen_hours:
            return False
        if self.cleared is not None and at < self.cleared:
            return False
        return self._seen_timeline.holding(at) is not None  # the room ended at, or inside, such an hour

    def _slot_hour(self, at: datetime, lead: str = "deploys expected") -> str:
        memo, key = self.shared.slot_hour, (at, lead)
        if key not in memo:
            memo[key] = self._describe_slot_hour(at, lead)
        return memo[key]

    def _describe_slot_hour(self, at: datetime, lead: str) -> str:
        """`deploys expected Sat 04:00–05:00 UTC: seen 4 of the last 4 weeks` for the slot hour of `at`,
        from the minute its expected stretch starts at."""
        local = at.astimezone(self.zone)
        key = (local.weekday(), local.hour)
        seen, slots = self._seen.get(key, 0), self.slots
        if not seen:
            seen, slots = self._seen_any.get(key, 0), self.seen_hours
        hour = _hour_start(at, self.zone)  # the slot's hour, not `at` within it
        minute = dict(_weekly_hours(slots)[key[0]]).get(key[1], 0)
        local, end = (
            (hour + timedelta(minutes=minute)).astimezone(self.zone),
            (hour + HOUR).astimezone(self.zone),
        )
        return (
            f"{lead} {_DAY_NAMES[local.weekday()]} {local:%H:%M}–{end:%H:%M} {local.tzname()}: "
            f"seen {seen} of the last {self.weeks} week{'s' if self.weeks != 1 else ''}"
        )

    def set_aside(self) -> str:
        """Which hours seen in `min_share` of the weeks are not expected deploys, and why ("" if none)."""
        if not self.unsteady or not self.weeks:
            return ""
        hours = f"{self.unsteady} hour{'s' if self.unsteady != 1 else ''} of the week"
        least = _least_steady(self.weeks, self.pace)
        return (
            f"{hours} seen in fewer than {least} of the last {self.weeks} weeks are not expected deploys: "
            f"deploys started in {self.pace:.0%} of the hours of a week, so chance explains them; the gaps "
            "between deploys bound runs there"
        )

    def why(self, at: datetime) -> str:
        """`deploys expected Sat 04:00–05:00 UTC: seen 4 of the last 4 weeks`, or the room of the gap."""
        promotion = self.promotion
        if promotion is not None and self._awaited(at) is not None:
            return promotion.why_awaited(at, self.zone)
        if promotion is not None and self._promoted_room(at) and not self.is_open(at):
            return promotion.why_room()
        if not self.is_open(at) and self.last is not None and self.gaps and at > self.last:
            return self._why_room(at, self.last)
        return self._slot_hour(at)

    def _why_room(self, at: datetime, last: datetime) -> str:
        memo, key = self.shared.why_room, (at, last)
        if key not in memo:
            memo[key] = self._describe_room(at, last)
        return memo[key]

    def _describe_room(self, at: datetime, last: datetime) -> str:
        """Why the room of the current gap ends at `at`: an hour of the week that saw deploys, the end of
        a seen gap (19 in 20 of those as long as the current one lasted that long), or, with too few of
        those, the rate at which they ended."""
        since = f"deploys are coming: the last one started {format_time(last, self.zone)}"
        total = len(self.gaps)
        i, thin = bisect_left(self.gaps, at - last), self._thin(at)
        if i < total and self.gaps[i] == at - last and not thin:
            return (
                f"{since}, and 19 in 20 of the comparable gaps between the last {total} deploys lasted at "
                f"least {format_duration(at - last)}: runs end before then"
            )
        if thin:
            return (
                f"{since}, too few of the last {total} gaps between deploys lasted this long to say more, "
                f"and {self._slot_hour(at, 'deploys started')}: runs end before then"
            )
        return (
            f"{since}, and only {self._longer(at - last)} of the last {total} gaps between deploys "
            "lasted this long, too few to say more: runs end before then, as 19 in 20 would at the rate "
            "those gaps ended (or within the room a gap leaves right after a deploy)"
        )


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
    promotion: Promotion | None = None,
    by_minute: bool = False,
) -> DeployForecast | None:
    """The forecast from deploy `starts` (aware instants, oldest first) before `now` (None: neither one
    complete week observed nor enough gaps between deploys).

    `observed_since` is when recording began (default: the first start); weeks before it are not
    complete. `cap` (the policy's `deploy_duration`) turns on the soft room of the gaps between deploys;
    None leaves it and the promotion room out. `promotion` adds the deploys promoted from the upstream
    environment. `by_minute` expects a slot from the minute its deploys start at (`slot_start: minute`)."""
    now = now.astimezone(UTC)
    end, anchor = bisect_right(starts, now), _hour_start(now, zone)
    lo = bisect_left(starts, now - lookback, hi=end)
    args = (lookback, min_share, zone, observed_since, cap, by_minute)
    if isinstance(starts, tuple):  # memoised: every decision of the hour reads the same starts
        key = (id(starts), end, lo, anchor, *args)
        hit = _FORECASTS.get(key)
        if hit is None or hit[0] is not starts:
            if len(_FORECASTS) >= _FORECASTS_KEPT:
                _FORECASTS.clear()
            hit = _FORECASTS[key] = (starts, _forecast(starts, end, lo, anchor, *args))  # the tuple kept
        base = hit[1]  # keeps its id unique
    else:
        base = _forecast(starts, end, lo, anchor, *args)
    if base is None or (not base.weeks and not base.gaps and promotion is None):
        return None
    return base if promotion is None else replace(base, promotion=promotion)


def relearnt_at(
    starts: Sequence[datetime], now: datetime, *, lookback: timedelta, zone: ZoneInfo, step: timedelta
) -> datetime:
    """The next instant, on a clock ticking every `step` after `now`, at which `forecast_deploys` may learn
    differently from the same `starts` (oldest first): the next hour start in `zone` (the slots are learnt
    at an hour), or the first tick after an old start leaves the lookback (the gaps counted change)."""
    hour = _hour_start(now, zone) + HOUR
    i = bisect_left(starts, now - lookback)  # the starts from `i` on still count at `now`
    return min(hour, starts[i] + lookback + step) if i < len(starts) else hour


_FORECASTS: dict[
    tuple[int, int, int, datetime, timedelta, float, ZoneInfo, datetime | None, timedelta | None, bool],
    tuple[tuple[datetime, ...], DeployForecast | None],
] = {}
_FORECASTS_KEPT = 16


def _forecast(
    starts: Sequence[datetime],
    end: int,
    lo: int,
    anchor: datetime,
    lookback: timedelta,
    min_share: float,
    zone: ZoneInfo,
    observed_since: datetime | None,
    cap: timedelta | None,
    by_minute: bool,
) -> DeployForecast | None:
    """`forecast_deploys` without a promotion from the first `end` starts, `lo` of them before the
    lookback, learnt at the hour starting at `anchor`; without weeks or gaps, the shape a promotion
    completes."""
    since = observed_since if observed_since is not None else (starts[0] if end else None)
    if since is None:
        return None
    weeks = sum(1 for k in range(1, int(lookback / WEEK) + 1) if anchor - k * WEEK >= since)
    seen = _gaps(tuple(starts[lo:end]))
    seen = seen if len(seen) >= _PACE_MIN else ()
    gaps = seen if cap else ()
    last = starts[end - 1] if seen else None
    if not weeks:
        return DeployForecast(zone, (), 0, None, gaps, last, cap)
    before_anchor = bisect_left(starts, anchor, hi=end)
    history = tuple(starts[bisect_left(starts, anchor - weeks * WEEK, hi=end) : before_anchor])
    learnt, sightings = _learnt(history, anchor, zone, weeks, min_share)
    pace = sightings / (7 * 24 * weeks)
    slots = _steady(learnt, pace, weeks)
    if by_minute:
        slots = _from_minutes(slots, history, zone)
    served = anchor if before_anchor < end else None
    cleared = _hour_start(last + seen[len(seen) - ceil(_SERVED * len(seen))], zone) if last else None
    return DeployForecast(
        zone,
        slots,
        weeks,
        served,
        gaps,
        last,
        cap,
        None,
        cleared,
        history,
        anchor,
        len(learnt) - len(slots),
        pace,
    )


def _steady(learnt: tuple[Slot, ...], pace: float, weeks: int) -> tuple[Slot, ...]:
    """The learnt slots that say more than the pace of deploys: seen in at least `_STEADY` of the weeks,
    or so much more often than hours are in general (`pace`: the share of the hours of a week that saw a
    deploy, each week) that chance explains it 1 time in 20 at most. Deploys every third hour at a random
    minute leave half the hours of the week seen in half the weeks: such hours stand for the pace, which
    the gaps between deploys already bound (memoised per slot tuple object, as `_weekly_hours`)."""
    key = (id(learnt), pace, weeks)
    hit = _STEADY_SLOTS.get(key)
    if hit is None or hit[0] is not learnt:
        if len(_STEADY_SLOTS) >= _HOURS_KEPT:
            _STEADY_SLOTS.clear()
        least = _least_steady(weeks, pace)
        steady = tuple(s for s in learnt if s.seen >= least)
        hit = _STEADY_SLOTS[key] = (learnt, steady if len(steady) < len(learnt) else learnt)
    return hit[1]


_STEADY_SLOTS: dict[tuple[int, float, int], tuple[tuple[Slot, ...], tuple[Slot, ...]]] = {}


@lru_cache(maxsize=1024)
def _least_steady(weeks: int, pace: float) -> int:
    """How many of `weeks` a steady slot is seen in at least: `_STEADY` of them, or fewer when deploys at
    `pace` see an hour that often 1 time in 20 at most; any number when deploys start in fewer than
    `_SPREAD` of the hours of a week (a weekly deploy and a few others: chance explains none of them)."""
    if pace < _SPREAD:
        return 1
    least = ceil(_STEADY * weeks)
    while least > 1 and _by_chance(weeks, least - 1, pace) <= 1 - _SURE:
        least -= 1
    return least


def _by_chance(weeks: int, seen: int, share: float) -> float:
    """The chance that an hour seen in each week with chance `share` is seen in `seen` or more of `weeks`."""
    return sum(comb(weeks, k) * share**k * (1 - share) ** (weeks - k) for k in range(seen, weeks + 1))


@lru_cache(maxsize=256)
def _gaps(recent: tuple[datetime, ...]) -> tuple[timedelta, ...]:
    """The gaps between consecutive `recent` starts, shortest first (memoised, like `_learnt`:
    consecutive decisions read the same history; a sliding history moves a `_GapList` forward)."""
    gaps = slid(_GAP_LISTS, lambda k: k.advance(recent), lambda: _GapList(recent), _LEARNERS_KEPT)
    return tuple(gaps.sorted)


class _GapList:
    """The sorted gaps between consecutive starts of `recent`, kept up to date as the window of
    recent starts slides forward: the gaps after starts that leave are removed, those between starts
    that enter are added."""

    def __init__(self, recent: tuple[datetime, ...]) -> None:
        self.recent = recent
        self.sorted = sorted(b - a for a, b in pairwise(recent))

    def advance(self, recent: tuple[datetime, ...]) -> bool:
        """Move to `recent` when that is this window slid forward (False, unchanged, otherwise)."""
        old = self.recent
        drop = bisect_left(old, recent[0]) if recent else len(old)
        kept = len(old) - drop
        if len(recent) < kept or not _slid(old, drop, recent, kept):
            return False
        for a, b in pairwise(old[: drop + 1] if kept else old):
            self.sorted.remove(b - a)
        for a, b in pairwise(recent[kept - 1 :] if kept else recent):
            insort(self.sorted, b - a)
        self.recent = recent
        return True


_GAP_LISTS: list[_GapList] = []


def _slid(old: tuple[datetime, ...], drop: int, new: tuple[datetime, ...], kept: int) -> bool:
    """Whether `new` starts with `old` from `drop` on (`kept` starts): the ends first, which tell another
    environment's history apart without copying either."""
    if kept and (old[drop] != new[0] or old[-1] != new[kept - 1]):
        return False
    return old[drop:] == new[:kept]


@lru_cache(maxsize=256)
def _learnt(
    history: tuple[datetime, ...], anchor: datetime, zone: ZoneInfo, weeks: int, min_share: float
) -> tuple[tuple[Slot, ...], int]:
    """Expected slots from the starts of the `weeks` complete weeks before `anchor`: a slot's count is
    the number of distinct weeks back (from `anchor`) in which a deploy started in it; and how many
    (hour of the week, week) pairs saw a start, the pace of deploys. Learnt by
    moving a `_Learner` of the same history forward when there is one (decisions come in time order),
    else from scratch."""
    end = micros_of(anchor)
    learner = slid(
        _LEARNERS,
        lambda k: k.advance(history, end, zone),
        lambda: _Learner(history, end, zone),
        _LEARNERS_KEPT,
    )
    return learner.slots_seen(min_share * weeks), learner.seen


class _Learner:
    """The distinct weeks back from an anchor in which each slot saw a start of `history`, kept up to
    date as the anchor moves forward by less than a week and the history slides with it: starts that
    leave or enter the history are removed or added, and only the starts whose week back changes (those
    just before a whole number of weeks before the new anchor) move; nothing else is recomputed."""

    def __init__(self, history: tuple[datetime, ...], anchor: int, zone: ZoneInfo) -> None:
        self.zone, self.anchor, self.history = zone, anchor, history
        table = _slot_table(zone)
        pairs = [table.get(start) or _local_slot(start, zone, table) for start in history]
        self.slots = [slot for slot, _ in pairs]
        self.micros = [micros for _, micros in pairs]
        self.weeks: dict[tuple[int, int], Counter[int]] = {}
        self._seen: dict[float, tuple[Slot, ...]] = {}  # by least count; emptied when a count changes
        self._moved: dict[tuple[int, int], int] = {}  # change of each slot's count since the last answer
        self.seen = 0  # (slot, week) pairs that saw a start
        for slot, micros in pairs:
            self._add(slot, (anchor - micros) // _WEEK_MICROS)

    def slots_seen(self, least: float) -> tuple[Slot, ...]:
        """The slots seen in at least `least` distinct weeks."""
        moved = [(len(self.weeks.get(slot, ())), net) for slot, net in self._moved.items() if net]
        self._moved.clear()
        if moved:  # an answer changes only if a slot it holds, before or after the move, moved
            for known in [k for k in self._seen if any(max(now, now - net) >= k for now, net in moved)]:
                del self._seen[known]
        found = self._seen.get(least)
        if found is None:
            counts = sorted((slot, len(weeks)) for slot, weeks in self.weeks.items() if len(weeks) >= least)
            found = self._seen[least] = _slots(tuple(counts))
        return found

    def _add(self, slot: tuple[int, int], week: int) -> None:
        weeks = self.weeks.get(slot)
        if weeks is None:
            weeks = self.weeks[slot] = Counter()
        if not weeks[week]:
            self._moved[slot] = self._moved.get(slot, 0) + 1
            self.seen += 1
        weeks[week] += 1

    def _remove(self, slot: tuple[int, int], week: int) -> None:
        weeks = self.weeks[slot]
        weeks[week] -= 1
        if not weeks[week]:
            self._moved[slot] = self._moved.get(slot, 0) - 1
            self.seen -= 1
            del weeks[week]
            if not weeks:
                del self.weeks[slot]

    def advance(self, history: tuple[datetime, ...], anchor: int, zone: ZoneInfo) -> bool:
        """Move to `history` at `anchor` when that is this history slid forward less than a week
        (False, unchanged, otherwise)."""
        step = anchor - self.anchor
        if zone is not self.zone or not 0 <= step < _WEEK_MICROS:
            return False
        old = self.history
        drop = bisect_left(old, history[0]) if history else len(old)
        kept = len(old) - drop
        if len(history) < kept or not _slid(old, drop, history, kept):
            return False
        for slot, micros in zip(self.slots[:drop], self.micros[:drop], strict=True):
            self._remove(slot, (self.anchor - micros) // _WEEK_MICROS)
        del self.slots[:drop], self.micros[:drop]
        back = 1
        while kept and anchor - back * _WEEK_MICROS >= self.micros[0]:
            first = bisect_right(self.micros, self.anchor - back * _WEEK_MICROS, hi=kept)
            last = bisect_right(self.micros, anchor - back * _WEEK_MICROS, hi=kept)
            for i in range(first, last):  # their week back grows by one
                self._remove(self.slots[i], back - 1)
                self._add(self.slots[i], back)
            back += 1
        table = _slot_table(zone)
        for start in history[kept:]:
            slot, micros = table.get(start) or _local_slot(start, zone, table)
            self.slots.append(slot)
            self.micros.append(micros)
            self._add(slot, (anchor - micros) // _WEEK_MICROS)
        self.anchor, self.history = anchor, history
        return True


_LEARNERS: list[_Learner] = []
_LEARNERS_KEPT = 8


@lru_cache(maxsize=1024)
def _slots(counts: tuple[tuple[tuple[int, int], int], ...]) -> tuple[Slot, ...]:
    """The slots of sorted ((weekday, hour), count) pairs (memoised: a week of decisions mostly learns
    the same slots again), each slot object made once."""
    made = _SLOT_OBJECTS
    out = []
    for (weekday, hour), count in counts:
        slot = made.get((weekday, hour, count))
        if slot is None:
            slot = made[weekday, hour, count] = Slot(weekday, hour, count)
        out.append(slot)
    return tuple(out)


_SLOT_OBJECTS: dict[tuple[int, int, int], Slot] = {}  # at most 7 * 24 hours x the weeks seen


_SLOTS_KEPT = 65536
_WEEK_MICROS = WEEK // timedelta(microseconds=1)


@lru_cache(maxsize=16)
def _slot_table(zone: ZoneInfo) -> dict[datetime, tuple[tuple[int, int], int]]:
    """The memo of `_local_slot` in `zone`: every decision reads the same history."""
    return {}


def _local_slot(
    start: datetime, zone: ZoneInfo, table: dict[datetime, tuple[tuple[int, int], int]]
) -> tuple[tuple[int, int], int]:
    """The (local weekday, hour) a deploy start falls in, and its `micros_of`, kept in `table`."""
    local = start.astimezone(zone)
    if len(table) >= _SLOTS_KEPT:
        table.clear()
    found = table[start] = (local.weekday(), local.hour), micros_of(start)
    return found


def _from_minutes(slots: tuple[Slot, ...], history: tuple[datetime, ...], zone: ZoneInfo) -> tuple[Slot, ...]:
    """`slots`, each expected from the minute its deploys of `history` start at (`_earliest`)."""
    minutes: dict[tuple[int, int], Counter[int]] = {}
    for start in history:
        local = start.astimezone(zone)
        minutes.setdefault((local.weekday(), local.hour), Counter())[local.minute] += 1
    return tuple(replace(s, minute=_earliest(minutes[s.weekday, s.hour])) for s in slots)


def _earliest(minutes: Counter[int]) -> int:
    """The minute of its hour from which a slot's next deploy is expected, from the minutes its deploys
    started at: below the earliest seen by the mean spacing of what was seen (the next start falls
    below the earliest of n seen 1 time in n + 1), the hour's start with a single one."""
    seen = minutes.total()
    if seen < 2:
        return 0
    low, high = min(minutes), max(minutes)
    return max(0, low - ceil((high - low) / (seen - 1)))
