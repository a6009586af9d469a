"""Time windows: cron schedule + duration in an IANA zone, or an absolute period; allow or deny.

One rule, written once: a cron window is open at `at` iff `last_fire <= at < last_fire + duration`,
where fires are cron wall-clock times in the window's zone (evaluated at `at`, never at "now") and
`duration` is elapsed time. A wall-clock fire inside a spring-forward gap happens as if the clock had
not jumped (02:30 CET → 03:30 CEST); an ambiguous one (autumn) happens once, at its first occurrence.
The last fire at / next fire after an instant, the closing of an opening and the verdict of a set of
windows at an instant are memoised (bounded LRU): they depend on nothing else.
"""

from __future__ import annotations

import copy
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from threading import Lock
from zoneinfo import ZoneInfo

from croniter import croniter

UTC = ZoneInfo("UTC")
ALWAYS = "always"
_DST_SLACK = timedelta(hours=3)
_MAX_STEPS = 2000
_FIRE_CACHE = 8192
_SHORT_STRETCH = timedelta(days=14)
_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Etc/GMT", "GMT"})
_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Kind(StrEnum):
    """Allow windows permit runs; deny windows forbid them and beat allow windows."""

    ALLOW = "allow"
    DENY = "deny"


def cron_error(expression: str) -> str | None:
    """None when `expression` is a valid 5-field cron expression, else a reason."""
    if len(expression.split()) != 5:
        return f"cannot parse cron '{expression}': expected 5 fields (minute hour day month weekday)"
    if not croniter.is_valid(expression):
        return f"cannot parse cron '{expression}'"
    return None


def format_duration(value: timedelta) -> str:
    """`5h`, `14d`, `1h30m`, `0m`: the inverse of the policy's duration strings."""
    minutes = int(value.total_seconds() // 60)
    if minutes == 0:
        return "0m"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days and not rest:
        return f"{days}d"
    hours += days * 24
    return (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")


def format_time(at: datetime, zone: ZoneInfo) -> str:
    """`Sat 2026-01-10 00:00 UTC`: an instant as humans read it in `zone`."""
    local = at.astimezone(zone)
    return f"{_DAY_NAMES[(local.isoweekday()) % 7]} {local:%Y-%m-%d %H:%M} {local.tzname()}"


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as a UTC instant (fold=0: before-transition offset).

    Instants are kept in UTC: Python adds timedeltas to aware datetimes in wall-clock time."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


@lru_cache(maxsize=256)
def _parsed(schedule: str) -> croniter:
    """A parsed `schedule` to copy from (parsing dominates the cost of a fresh croniter)."""
    return croniter(schedule, datetime(2000, 1, 1))


def _cron(schedule: str, base: datetime) -> croniter:
    """A croniter of `schedule` starting at the naive wall-clock time `base`."""
    it = copy.copy(_parsed(schedule))
    it.set_current(base, force=True)
    return it


def _fires_back(schedule: str, zone: ZoneInfo, at: datetime) -> Iterator[datetime]:
    """Fires of `schedule` in `zone` at or before `at`, newest first."""
    base = at.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) + _DST_SLACK
    it = _cron(schedule, base)
    for _ in range(_MAX_STEPS):
        fire = _localize(it.get_prev(datetime), zone)
        if fire <= at:
            yield fire


def _fires_after(schedule: str, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Fires of `schedule` in `zone` strictly after `after`, oldest first."""
    base = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) - _DST_SLACK
    it = _cron(schedule, base)
    for _ in range(_MAX_STEPS):
        fire = _localize(it.get_next(datetime), zone)
        if fire > after:
            yield fire


@lru_cache(maxsize=_FIRE_CACHE)
def _newest_fire(schedule: str, zone: ZoneInfo, at: datetime) -> datetime | None:
    """The newest fire at or before `at` (memoised: a pure function of its arguments)."""
    return next(_fires_back(schedule, zone, at), None)


class _Intervals:
    """Known stretches [fire, next fire) per (schedule, zone): every instant in one has that fire as
    its last. Kept only where the wall clock cannot reorder fires (UTC, or a short stretch without a
    change of UTC offset), so the answer is the one `_newest_fire` gives."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._known: dict[tuple[str, ZoneInfo], tuple[list[datetime], list[datetime]]] = {}

    def find(self, schedule: str, zone: ZoneInfo, at: datetime) -> datetime | None:
        """The last fire of the known stretch holding `at` (None: not known)."""
        with self._lock:
            starts, ends = self._known.get((schedule, zone), ((), ()))
            i = bisect_right(starts, at) - 1
            return starts[i] if i >= 0 and at < ends[i] else None

    def add(self, schedule: str, zone: ZoneInfo, fire: datetime, following: datetime) -> None:
        """Remember that no fire happens in (fire, following) if the wall clock keeps their order."""
        if zone.key not in _UTC_KEYS and not (
            following - fire <= _SHORT_STRETCH
            and _offset(zone, fire - _DST_SLACK) == _offset(zone, following + _DST_SLACK)
        ):
            return
        with self._lock:
            starts, ends = self._known.setdefault((schedule, zone), ([], []))
            if len(starts) >= _FIRE_CACHE:
                starts.clear()
                ends.clear()
            i = bisect_right(starts, fire)
            if i == 0 or starts[i - 1] != fire:
                starts.insert(i, fire)
                ends.insert(i, following)


def _offset(zone: ZoneInfo, at: datetime) -> timedelta | None:
    return at.astimezone(zone).utcoffset()


_INTERVALS = _Intervals()


def _last_fire(schedule: str, zone: ZoneInfo, at: datetime) -> datetime | None:
    """The newest fire at or before `at`, from a known stretch between fires when there is one."""
    known = _INTERVALS.find(schedule, zone, at)
    if known is not None:
        return known
    last = _newest_fire(schedule, zone, at)
    if last is not None:
        following = _next_fire(schedule, zone, last)
        if following is not None and at < following:
            _INTERVALS.add(schedule, zone, last, following)
    return last


@lru_cache(maxsize=_FIRE_CACHE)
def _next_fire(schedule: str, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The oldest fire strictly after `after` (memoised: a pure function of its arguments)."""
    return next(_fires_after(schedule, zone, after), None)


@lru_cache(maxsize=_FIRE_CACHE)
def _merged_end(schedule: str, zone: ZoneInfo, duration: timedelta, fire: datetime) -> datetime:
    """When the opening at `fire` closes, overlapping later openings merged (memoised)."""
    end = fire + duration
    for later in _fires_after(schedule, zone, fire):
        if later > end:
            break
        end = max(end, later + duration)
    return end


@dataclass(frozen=True)
class Window:
    """A named allow/deny window: cron `schedule` + `duration`, or an absolute `start`/`end` period."""

    name: str
    kind: Kind
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    schedule: str | None = None
    duration: timedelta | None = None
    start: datetime | None = None
    end: datetime | None = None

    @property
    def is_always(self) -> bool:
        """The pseudo-window `always`: open at every instant."""
        return self.schedule is None and self.start is None

    def is_open(self, at: datetime) -> bool:
        """Whether the window is open at instant `at` (opening included, closing excluded)."""
        at = at.astimezone(UTC)
        if self.start is not None and self.end is not None:
            return self.start <= at < self.end
        if self.schedule is None or self.duration is None:
            return True
        last = _last_fire(self.schedule, self.zone, at)
        return last is not None and at < last + self.duration

    def next_open(self, after: datetime) -> datetime | None:
        """The first opening strictly after `after` (None: never again, or always open)."""
        after = after.astimezone(UTC)
        if self.start is not None:
            return self.start if self.start > after else None
        if self.schedule is None:
            return None
        return _next_fire(self.schedule, self.zone, after)

    def closes_at(self, at: datetime) -> datetime | None:
        """When the window open at `at` closes (overlapping openings merged); None if closed or endless."""
        at = at.astimezone(UTC)
        if not self.is_open(at):
            return None
        if self.end is not None:
            return self.end
        if self.schedule is None or self.duration is None:
            return None
        last = _last_fire(self.schedule, self.zone, at)
        assert last is not None
        return _merged_end(self.schedule, self.zone, self.duration, last)

    def describe(self) -> str:
        """Human rendering, e.g. `weekdays 01:00–06:00 UTC`."""
        tz = str(self.zone.key)
        if self.start is not None and self.end is not None:
            start, end = self.start.astimezone(self.zone), self.end.astimezone(self.zone)
            return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} {tz}"
        if self.schedule is None or self.duration is None:
            return "always"
        return _describe_cron(self.schedule, self.duration, tz)


def _describe_days(dow: str) -> str | None:
    named = {
        "*": "daily",
        "1-5": "weekdays",
        "mon-fri": "weekdays",
        "0,6": "weekends",
        "6,0": "weekends",
        "6-7": "weekends",
        "sat,sun": "weekends",
    }
    if dow.lower() in named:
        return named[dow.lower()]
    if dow.isdigit() and int(dow) <= 7:
        return _DAY_NAMES[int(dow) % 7]
    return None


def _describe_cron(schedule: str, duration: timedelta, tz: str) -> str:
    minute, hour, dom, month, dow = schedule.split()
    if not (minute.isdigit() and hour.isdigit()):
        return f"'{schedule}' for {format_duration(duration)} {tz}"
    start_min = int(hour) * 60 + int(minute)
    span = int(duration.total_seconds() // 60)
    start = f"{int(hour):02d}:{int(minute):02d}"
    end_min = start_min + span
    end = f"{(end_min // 60) % 24:02d}:{end_min % 60:02d}"
    days = _describe_days(dow) if dom == "*" and month == "*" else None
    if days is not None and end_min <= 1440:
        return f"{days} {start}–{end} {tz}"
    if days is not None and dow.isdigit():
        end_day = _DAY_NAMES[(int(dow) + end_min // 1440) % 7]
        return f"{days} {start} – {end_day} {end} {tz}"
    if dow == "*" and dom.isdigit() and month.isdigit() and 1 <= int(month) <= 12:
        return (
            f"yearly from {int(dom)} {_MONTHS[int(month) - 1]} {start} for {format_duration(duration)} {tz}"
        )
    if days is not None:
        return f"{days} from {start} for {format_duration(duration)} {tz}"
    return f"'{schedule}' for {format_duration(duration)} {tz}"


ALWAYS_WINDOW = Window(name=ALWAYS, kind=Kind.ALLOW)


@dataclass(frozen=True)
class WindowVerdict:
    """Whether runs may happen at an instant, why, and the next opening / closing."""

    open: bool
    reasons: list[str]
    next_open_at: datetime | None
    closes_at: datetime | None
    window: str | None


def _union_end(windows: Sequence[Window], at: datetime) -> datetime | None:
    """End of the continuous stretch from `at` covered by the open windows (None: endless)."""
    end = at
    for _ in range(_MAX_STEPS):
        closes = [w.closes_at(end) for w in windows if w.is_open(end)]
        if not closes:
            return end
        if any(c is None for c in closes):
            return None
        end = max(c for c in closes if c is not None)
    return end


def evaluate_windows(
    allow: Sequence[Window], deny: Sequence[Window], at: datetime, *, horizon: timedelta = timedelta(days=400)
) -> WindowVerdict:
    """Compose allow and deny windows at `at`: deny beats allow; no allow windows means never open.
    Memoised per (windows, instant): the verdict depends on nothing else."""
    verdict = _evaluate(tuple(allow), tuple(deny), at, horizon)
    return replace(verdict, reasons=list(verdict.reasons))


@lru_cache(maxsize=_FIRE_CACHE)
def _evaluate(
    allow: tuple[Window, ...], deny: tuple[Window, ...], at: datetime, horizon: timedelta
) -> WindowVerdict:
    open_denies = [w for w in deny if w.is_open(at)]
    open_allows = [w for w in allow if w.is_open(at)]
    if open_allows and not open_denies:
        allow_end = _union_end(open_allows, at)
        deny_starts = [s for s in (w.next_open(at) for w in deny) if s is not None]
        ends = [e for e in [allow_end, min(deny_starts, default=None)] if e is not None]
        return WindowVerdict(
            True, [f"window {open_allows[0].name} is open"], at, min(ends, default=None), open_allows[0].name
        )
    reasons = [f"deny window {w.name} ({w.describe()}) is in force" for w in open_denies]
    if not open_allows:
        names = ", ".join(w.name for w in allow) or "none"
        reasons.insert(0, f"no allowed window is open (allowed: {names})")
    return WindowVerdict(False, reasons, _next_open(allow, deny, at, at + horizon), None, None)


def _next_open(
    allow: Sequence[Window], deny: Sequence[Window], at: datetime, limit: datetime
) -> datetime | None:
    """The first instant >= `at` when an allow window is open and no deny window is."""
    t = at
    for _ in range(_MAX_STEPS):
        if t > limit:
            return None
        if not any(w.is_open(t) for w in allow):
            starts = [s for s in (w.next_open(t) for w in allow) if s is not None]
            if not starts:
                return None
            t = min(starts)
            continue
        open_denies = [w for w in deny if w.is_open(t)]
        if not open_denies:
            return t
        ends = [w.closes_at(t) for w in open_denies]
        if any(e is None for e in ends):
            return None
        t = max(e for e in ends if e is not None)
    return None
