"""Time windows: cron schedule + duration in an IANA zone, or an absolute period; allow or deny.

One rule, written once: each fire of a cron window opens `[fire, fire + duration)`; the window is the
union of those openings, so openings that touch or overlap merge into one stretch. Fires are cron
wall-clock times in the window's zone and `duration` is elapsed time. A wall-clock fire inside a
spring-forward gap happens as if the clock had not jumped (02:30 CET → 03:30 CEST); an ambiguous one
(autumn) happens once, at its first occurrence.

The algebra is interval arithmetic with a bounded cost for every valid policy: a day's openings are
built from the schedule's times of day (one shift per day, fire by fire only on days whose UTC offset
changes), a week of them is merged once and memoised, and every walk stops at a horizon
(`HORIZON`, 400 days). A stretch that is still open at the horizon is "open until further notice"
(its end is None).
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterBadDateError

UTC = ZoneInfo("UTC")
ALWAYS = "always"
HORIZON = timedelta(days=400)
_BLOCK_DAYS = 7
_CACHE = 8192
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Span = tuple[datetime, datetime]


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


@lru_cache(maxsize=1024)
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


@lru_cache(maxsize=_CACHE)
def format_time(at: datetime, zone: ZoneInfo) -> str:
    """`Sat 2026-01-10 00:00 UTC`: an instant as humans read it in `zone` (memoised: the planner
    names the same openings and deploys decision after decision)."""
    local = at.astimezone(zone)
    return f"{_DAY_NAMES[(local.isoweekday()) % 7]} {local:%Y-%m-%d %H:%M} {local.tzname()}"


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as a UTC instant (fold=0: before-transition offset).

    Instants are kept in UTC: Python adds timedeltas to aware datetimes in wall-clock time."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


# --- a cron schedule as (days it fires on) x (times of day it fires at) ---------------------------


@dataclass(frozen=True)
class _Shape:
    """A cron schedule split into the times of day it fires at and the days it fires on.

    Plain day fields (numbers, ranges, steps, names) are matched here with croniter's semantics
    (day of month OR day of week when both are restricted); `L`, `#` and `W` are left to croniter."""

    times: tuple[timedelta, ...]
    days_expression: str
    plain: bool
    doms: frozenset[int] | None
    months: frozenset[int] | None
    dows: frozenset[int] | None
    fires: bool


def _restricted(values: Sequence[int | str], modulo: int | None = None) -> frozenset[int] | None:
    """The values of an expanded cron field, or None for `*`."""
    if values[0] == "*":
        return None
    return frozenset(int(v) % modulo if modulo else int(v) for v in values)


@lru_cache(maxsize=256)
def _shape(schedule: str) -> _Shape:
    _, _, dom, month, dow = schedule.split()
    expanded, nth = croniter.expand(schedule)
    minutes = _restricted(expanded[0]) or frozenset(range(60))
    hours = _restricted(expanded[1]) or frozenset(range(24))
    times = tuple(sorted(timedelta(hours=h, minutes=m) for h in hours for m in minutes))
    days_expression = f"0 0 {dom} {month} {dow}"
    day_fields = expanded[2:5]
    plain = not nth and not any(c in f"{dom}{dow}".lower() for c in "lw#")
    plain = plain and all(v == "*" or isinstance(v, int) for values in day_fields for v in values)
    try:
        croniter(days_expression, datetime(2000, 1, 1)).get_next(datetime)
        fires = True
    except CroniterBadDateError:
        fires = False
    if not plain:
        return _Shape(times, days_expression, False, None, None, None, fires)
    doms, months, dows = _restricted(day_fields[0]), _restricted(day_fields[1]), _restricted(day_fields[2], 7)
    return _Shape(times, days_expression, True, doms, months, dows, fires)


def _fires_on(shape: _Shape, day: date) -> bool:
    """Whether a plain-day schedule fires on local date `day`."""
    if shape.months is not None and day.month not in shape.months:
        return False
    dom = shape.doms is None or day.day in shape.doms
    dow = shape.dows is None or day.isoweekday() % 7 in shape.dows
    if shape.doms is not None and shape.dows is not None:
        return dom or dow
    return dom and dow


def _days(shape: _Shape, first: date, count: int) -> list[date]:
    """The local dates in [first, first + count days) the schedule fires on."""
    if not shape.fires:
        return []
    if shape.plain:
        return [d for d in (first + timedelta(days=i) for i in range(count)) if _fires_on(shape, d)]
    end = datetime.combine(first + timedelta(days=count), time())
    it = croniter(shape.days_expression, datetime.combine(first, time()) - timedelta(minutes=1))
    out: list[date] = []
    try:
        while (fire := it.get_next(datetime)) < end:
            out.append(fire.date())
    except CroniterBadDateError:
        pass
    return out


def _merge(spans: Iterable[Span]) -> Iterator[Span]:
    """Spans sorted by start, touching and overlapping ones merged."""
    current: Span | None = None
    for start, end in spans:
        if current is not None and start <= current[1]:
            if end > current[1]:
                current = (current[0], end)
            continue
        if current is not None:
            yield current
        current = (start, end)
    if current is not None:
        yield current


@lru_cache(maxsize=1024)
def _day_offsets(schedule: str, duration: timedelta) -> tuple[tuple[timedelta, timedelta], ...]:
    """The merged openings of one day without a change of UTC offset, as offsets from midnight."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    spans = _merge((epoch + t, epoch + t + duration) for t in _shape(schedule).times)
    return tuple((s - epoch, e - epoch) for s, e in spans)


def _day_spans(schedule: str, zone: ZoneInfo, duration: timedelta, day: date) -> list[Span]:
    """The merged openings caused by the fires of local date `day`."""
    midnight = _localize(datetime.combine(day, time()), zone)
    following = _localize(datetime.combine(day + timedelta(days=1), time()), zone)
    if following - midnight == timedelta(days=1):
        return [(midnight + s, midnight + e) for s, e in _day_offsets(schedule, duration)]
    fires = sorted(_localize(datetime.combine(day, time()) + t, zone) for t in _shape(schedule).times)
    return list(_merge((f, f + duration) for f in fires))


@lru_cache(maxsize=4096)
def _block(schedule: str, zone: ZoneInfo, duration: timedelta, index: int) -> tuple[Span, ...]:
    """The merged openings caused by the fires of one week of local dates (memoised)."""
    first = date.fromordinal(index * _BLOCK_DAYS + 1)
    spans = [
        s
        for day in _days(_shape(schedule), first, _BLOCK_DAYS)
        for s in _day_spans(schedule, zone, duration, day)
    ]
    return tuple(_merge(spans))


@lru_cache(maxsize=4096)
def _block_ends(schedule: str, zone: ZoneInfo, duration: timedelta, index: int) -> tuple[datetime, ...]:
    """The ends of `_block`'s openings, in order (memoised)."""
    return tuple(end for _, end in _block(schedule, zone, duration, index))


def _cron_stretches(
    schedule: str, zone: ZoneInfo, duration: timedelta, since: datetime, limit: datetime
) -> Iterator[Span]:
    """Merged openings that end after `since` and start by `limit`, in order; one still open at
    `limit` ends at `_FOREVER`. The first may start later than its true start (it is never earlier)."""
    first = (since - duration).astimezone(zone).date() - timedelta(days=1)
    last = limit.astimezone(zone).date() + timedelta(days=1)
    current: Span | None = None
    lowest = (first.toordinal() - 1) // _BLOCK_DAYS
    for index in range(lowest, (last.toordinal() - 1) // _BLOCK_DAYS + 1):
        spans = _block(schedule, zone, duration, index)
        # spans of the first block that end by `since` are neither yielded nor joined by a later one
        # (a block's spans are merged; one touching the next block's first starts by `since` too)
        skip = bisect_right(_block_ends(schedule, zone, duration, index), since) if index == lowest else 0
        for start, end in islice(spans, skip, None):
            if start > limit:
                break
            if current is not None and start <= current[1]:
                current = (current[0], max(current[1], end))
                continue
            if current is not None and current[1] > since:
                yield current
            current = (start, end)
        else:
            continue
        break
    if current is not None and current[1] > since:
        yield (current[0], _FOREVER if current[1] >= limit else current[1])


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
    manual: bool = False  # a deny window an approver's `/pdm run --now` may run through

    @property
    def is_always(self) -> bool:
        """The pseudo-window `always`: open at every instant."""
        return self.schedule is None and self.start is None

    def stretches(self, since: datetime, limit: datetime) -> Iterator[Span]:
        """The window's merged open stretches that end after `since` and start by `limit`, in order;
        a stretch still open at `limit` ends at `_FOREVER` (open until further notice)."""
        since, limit = since.astimezone(UTC), limit.astimezone(UTC)
        if self.start is not None and self.end is not None:
            if self.end > since and self.start <= limit:
                yield (self.start, self.end)
        elif self.schedule is None or self.duration is None:
            yield (since, _FOREVER)
        else:
            yield from _cron_stretches(self.schedule, self.zone, self.duration, since, limit)

    def is_open(self, at: datetime) -> bool:
        """Whether the window is open at instant `at` (opening included, closing excluded)."""
        first = next(self.stretches(at, at), None)
        return first is not None and first[0] <= at

    def next_open(self, after: datetime, *, horizon: timedelta = HORIZON) -> datetime | None:
        """The first opening strictly after `after` (None: none within `horizon`, or always open)."""
        return next((s for s, _ in self.stretches(after, after + horizon) if s > after), None)

    def closes_at(self, at: datetime, *, horizon: timedelta = HORIZON) -> datetime | None:
        """When the window open at `at` closes (touching and overlapping openings merged); None when it
        is closed at `at` or stays open beyond `horizon` (open until further notice)."""
        first = next(self.stretches(at, at + horizon), None)
        if first is None or first[0] > at or first[1] == _FOREVER:
            return None
        return first[1]

    def openings(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime | None]]:
        """The open stretches meeting [since, until]: (opening, closing or None when open until
        further notice)."""
        return [(s, None if e == _FOREVER else e) for s, e in self.stretches(since, until)]

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
    """Whether runs may happen at an instant, why, and the next opening / closing (`closes_at` None
    while open: open until further notice)."""

    open: bool
    reasons: list[str]
    next_open_at: datetime | None
    closes_at: datetime | None
    window: str | None


def _union(windows: Sequence[Window], since: datetime, limit: datetime) -> Iterator[Span]:
    """The merged stretches covered by any of `windows`."""
    return _merge(heapq.merge(*(w.stretches(since, limit) for w in windows)))


def _minus(spans: Iterator[Span], holes: Iterator[Span]) -> Iterator[Span]:
    """`spans` with `holes` cut out (both sorted and merged)."""
    hole = next(holes, None)
    for start, end in spans:
        while start < end:
            while hole is not None and hole[1] <= start:
                hole = next(holes, None)
            if hole is None or hole[0] >= end:
                yield (start, end)
                break
            if hole[0] > start:
                yield (start, hole[0])
            start = hole[1]


def allowed_stretches(
    allow: Sequence[Window], deny: Sequence[Window], since: datetime, limit: datetime
) -> Iterator[Span]:
    """Stretches when an allow window is open and no deny window is, ending after `since`, in order."""
    since, limit = since.astimezone(UTC), limit.astimezone(UTC)
    spans = _minus(_union(allow, since, limit), _union(deny, since, limit))
    return ((s, e) for s, e in spans if e > since)


def evaluate_windows(
    allow: Sequence[Window], deny: Sequence[Window], at: datetime, *, horizon: timedelta = HORIZON
) -> WindowVerdict:
    """Compose allow and deny windows at `at`: deny beats allow; no allow windows means never open.
    Memoised per (windows, instant): the verdict depends on nothing else."""
    verdict = _evaluate(tuple(allow), tuple(deny), at.astimezone(UTC), horizon)
    return replace(verdict, reasons=list(verdict.reasons))


def shared_verdict(allow: tuple[Window, ...], deny: tuple[Window, ...], at: datetime) -> WindowVerdict:
    """`evaluate_windows` without the copy: the memoised verdict itself, shared by every caller (the
    planner only reads it; never mutate its `reasons`). Looked up by the identity of the window
    tuples (the policy keeps one pair per nature), which is cheaper than hashing every window."""
    at = at.astimezone(UTC)
    key = (id(allow), id(deny), at)
    hit = _SHARED.get(key)
    if hit is None:
        if len(_SHARED) >= _CACHE:
            _SHARED.clear()
        hit = _SHARED[key] = (allow, deny, _evaluate(allow, deny, at, HORIZON))  # kept: ids stay unique
    return hit[2]


_SHARED: dict[tuple[int, int, datetime], tuple[tuple[Window, ...], tuple[Window, ...], WindowVerdict]] = {}


@lru_cache(maxsize=_CACHE)
def _evaluate(
    allow: tuple[Window, ...], deny: tuple[Window, ...], at: datetime, horizon: timedelta
) -> WindowVerdict:
    first = first_stretch(allow, deny, at, at + horizon)
    if first is not None and first[0] <= at:
        closes = None if first[1] == _FOREVER else first[1]
        name = next(w.name for w in allow if w.is_open(at))  # the first open allow window
        reason = f"window {name} is open" + ("" if closes else " until further notice")
        return WindowVerdict(True, [reason], at, closes, name)
    reasons = [f"deny window {w.name} ({w.describe()}) is in force" for w in deny if w.is_open(at)]
    if not any(w.is_open(at) for w in allow):
        names = ", ".join(w.name for w in allow) or "none"
        reasons.insert(0, f"no allowed window is open (allowed: {names})")
    return WindowVerdict(False, reasons, first[0] if first else None, None, None)


_CHUNK = timedelta(days=28)  # the allowed stretches are memoised four weeks at a time
_CHUNK_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_CHUNKS_KEPT = 256  # at most 20,160 stretches each (a minute open every other minute): 80 MB at worst


def micros_of(at: datetime) -> int:
    """Microseconds from a fixed epoch: exact integer arithmetic for comparing and subtracting instants."""
    return (at - _CHUNK_EPOCH) // _MICRO


def _instant(micros: int) -> datetime:
    return _CHUNK_EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True)
class _Chunk:
    """The allowed stretches of one four-week chunk, clipped to it (microseconds from `_CHUNK_EPOCH`),
    with the longest one touching neither edge (what a search for a long opening skips them by)."""

    start: int
    end: int
    starts: array[int]
    ends: array[int]
    longest_inside: int


@lru_cache(maxsize=_CHUNKS_KEPT)
def _chunk(allow: tuple[Window, ...], deny: tuple[Window, ...], index: int) -> _Chunk:
    start = _CHUNK_EPOCH + index * _CHUNK
    end = start + _CHUNK
    starts, ends, inside = array("q"), array("q"), 0
    low, high = micros_of(start), micros_of(end)
    for s, e in allowed_stretches(allow, deny, start, end):
        if s >= end:
            break
        a, b = max(micros_of(s), low), min(micros_of(e), high)
        starts.append(a)
        ends.append(b)
        if a > low and b < high:
            inside = max(inside, b - a)
    return _Chunk(low, high, starts, ends, inside)


def _chunk_index(at: datetime) -> int:
    return (at - _CHUNK_EPOCH) // _CHUNK


def first_stretch(
    allow: tuple[Window, ...], deny: tuple[Window, ...], since: datetime, limit: datetime
) -> Span | None:
    """The first allowed stretch that ends after `since` and starts by `limit` (one still open at
    `limit` ends at `_FOREVER`): `next(allowed_stretches(...))` from memoised four-week chunks, so a
    new instant costs a look-up, not a walk over every opening of the horizon. Its start is not before
    the chunk it is found in (exact for every instant from `since` on)."""
    since, limit = since.astimezone(UTC), limit.astimezone(UTC)
    at, end_at, index = micros_of(since), micros_of(limit), _chunk_index(since)
    found: tuple[int, int] | None = None
    while found is None:
        chunk = _chunk(allow, deny, index)
        if chunk.start > end_at:
            return None
        i = bisect_right(chunk.ends, at)
        if i < len(chunk.ends):
            found = (chunk.starts[i], chunk.ends[i])
        index += 1
    if found[0] > end_at:
        return None
    begin, finish = found
    while finish == chunk.end and finish <= end_at:  # it may go on in the next chunk
        chunk = _chunk(allow, deny, index)
        index += 1
        if not chunk.starts or chunk.starts[0] != chunk.start:
            break
        finish = chunk.ends[0]
    return _instant(begin), _FOREVER if finish >= end_at else _instant(finish)


def next_fit(
    allow: tuple[Window, ...], deny: tuple[Window, ...], since: datetime, length: timedelta, limit: datetime
) -> datetime | None:
    """The first instant from `since` (up to `limit`) at which an allowed stretch still has `length` to
    run: where a run of that length may start and end in its window. Openings too short are skipped four
    weeks at a time (memoised), so a run that never fits costs a few look-ups, not a walk over every
    opening."""
    since, limit = since.astimezone(UTC), limit.astimezone(UTC)
    at, end_at, need = micros_of(since), micros_of(limit), length // _MICRO
    current: tuple[int, int] | None = None  # the stretch being merged across chunk edges
    index = _chunk_index(since)
    while (chunk := _chunk(allow, deny, index)).start <= end_at:
        index += 1
        starts, ends = chunk.starts, chunk.ends
        first = bisect_right(ends, at)  # spans ending by `since` are gone
        if first == len(ends):
            current = None
            continue
        last, i = len(ends) - 1, first
        while i <= last:
            s, e = starts[i], ends[i]
            current = (current[0], max(current[1], e)) if current is not None and s <= current[1] else (s, e)
            begin = max(current[0], at)
            if current[1] - begin >= need:
                return _instant(begin) if begin <= end_at else None
            i += 1
            if i < last and chunk.longest_inside < need:
                i = last  # no span inside the chunk fits: only its last one may, merged with the next chunk
        if current is not None and current[1] < chunk.end:
            current = None
    return None
