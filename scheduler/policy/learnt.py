"""Estimates learnt from past runs: how long runs of a kind of migration took against the policy's guess.

The policy's `durations` guess a migration's run time from its nature and its largest table's size class.
Each finished run of the environment says how long its migrations took together (pipeline start-up
excluded). A run whose estimate is mostly (`_DOMINANT`) one (nature, size class) measures that class: its
ratio is the time taken over the estimate. Once a class has `_MIN_RUNS` such runs, its estimates are
scaled by the ratio 9 in 10 of its last `_KEPT` runs stayed within, bounded to [`_LOW`, `_HIGH`]: a class
that always runs faster than guessed fits smaller gaps, one that runs slower is given its real length.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from itertools import islice
from math import ceil
from operator import is_
from typing import TYPE_CHECKING

from scheduler.classify.model import SizeClass
from scheduler.natures import Nature
from scheduler.policy.sliding import slid

if TYPE_CHECKING:
    from scheduler.classify.model import Classification
    from scheduler.policy.model import Policy

EstimateKind = tuple[Nature, SizeClass | None]
Part = tuple[Nature, SizeClass | None, timedelta]  # a migration's kind and the policy's own estimate

RUN_TIMINGS_KEPT = 200  # finished runs kept per environment to learn from
_DOMINANT = 0.8  # share of a run's estimate one kind must hold for the run to measure it
_MIN_RUNS = 5
_KEPT = 20
_SURE = 0.9
_LOW, _HIGH = 0.25, 4.0


@dataclass(frozen=True)
class RunTiming:
    """A finished run: its migrations' estimates by kind (as the policy guessed them) and how long the
    migrations took (the run's pipeline time without the policy's per-run overhead)."""

    finished_at: datetime
    took: timedelta
    parts: tuple[Part, ...]

    @cached_property
    def measured(self) -> tuple[EstimateKind, float] | None:
        """The kind holding at least `_DOMINANT` of the estimate, and how long the run took as a share of
        the whole estimate (None: mixed); computed once per timing (every evaluation learns from the
        same runs)."""
        total = sum((p[2] for p in self.parts), timedelta(0))
        if total <= timedelta(0):
            return None
        by_kind: dict[EstimateKind, timedelta] = {}
        for nature, size, estimate in self.parts:
            by_kind[(nature, size)] = by_kind.get((nature, size), timedelta(0)) + estimate
        kind, held = max(by_kind.items(), key=lambda item: item[1])
        return (kind, max(self.took, timedelta(0)) / total) if held >= _DOMINANT * total else None


def part_of(c: Classification, policy: Policy) -> Part:
    """What a finished run measures of one of its migrations: its kind and the policy's unscaled guess."""
    return c.primary_nature, policy.size_of(c), policy.estimate(c)


@dataclass(frozen=True)
class LearntScale:
    """A kind's learnt scale and the runs it comes from."""

    scale: float
    runs: int


_MEMO: dict[int, tuple[Sequence[RunTiming], Mapping[EstimateKind, LearntScale]]] = {}
_MEMO_KEPT = 64
# the answers by content: an equal answer is handed out as the same object, so that the planner's memos
# keyed by it keep hitting
_SAME: dict[frozenset[tuple[EstimateKind, LearntScale]], Mapping[EstimateKind, LearntScale]] = {}


def learn_scales(timings: Sequence[RunTiming]) -> Mapping[EstimateKind, LearntScale]:
    """The scale of each kind measured by at least `_MIN_RUNS` of `timings` (oldest first); memoised per
    `timings` object (the memo keeps it alive): every decision of an instant reads the same runs."""
    hit = _MEMO.get(id(timings))
    if hit is not None and hit[0] is timings:
        return hit[1]
    if len(_MEMO) >= _MEMO_KEPT:
        _MEMO.clear()
        _SAME.clear()
    learnt = _learn(timings)
    learnt = _SAME.setdefault(frozenset(learnt.items()), learnt)
    _MEMO[id(timings)] = (timings, learnt)
    return learnt


def _learn(timings: Sequence[RunTiming]) -> Mapping[EstimateKind, LearntScale]:
    ratios = slid(_RATIOS, lambda r: r.advance(timings), lambda: _Ratios(timings), _MEMO_KEPT)
    out: dict[EstimateKind, LearntScale] = {}
    for kind, seen in ratios.by_kind.items():
        recent = sorted(islice(seen, max(len(seen) - _KEPT, 0), None))
        if len(recent) >= _MIN_RUNS:
            scale = min(max(recent[ceil(_SURE * len(recent)) - 1], _LOW), _HIGH)
            out[kind] = LearntScale(scale, len(recent))
    return out


class _Ratios:
    """The measured ratios of each kind over timings (oldest first), moved forward as they slide: a run
    that finishes is appended and the oldest is dropped, so only those two change the ratios."""

    def __init__(self, timings: Sequence[RunTiming]) -> None:
        self.timings = timings
        self.by_kind: dict[EstimateKind, deque[float]] = {}
        for timing in timings:
            self._add(timing)

    def _add(self, timing: RunTiming) -> None:
        measured = timing.measured
        if measured is not None:
            self.by_kind.setdefault(measured[0], deque()).append(measured[1])

    def advance(self, timings: Sequence[RunTiming]) -> bool:
        """Move to `timings` when they are these slid forward (False, unchanged, otherwise)."""
        old = self.timings
        drop: int | None = 0
        if old:
            drop = _place(old, timings[0]) if timings else None
        if drop is None:
            return False  # nothing in common: another environment's runs
        kept = len(old) - drop
        if len(timings) < kept or not all(map(is_, islice(old, drop, None), islice(timings, kept))):
            return False
        for timing in islice(old, drop):  # the oldest of their kind
            measured = timing.measured
            if measured is not None:
                seen = self.by_kind[measured[0]]
                seen.popleft()
                if not seen:
                    del self.by_kind[measured[0]]
        for timing in islice(timings, kept, None):
            self._add(timing)
        self.timings = timings
        return True


_RATIOS: list[_Ratios] = []
_SLIDE = 8  # how many runs a tuple of timings may have dropped since the last one learnt from


def _place(old: Sequence[RunTiming], first: RunTiming) -> int | None:
    """Where `first` is among the first `_SLIDE` of `old` (by identity), if it is."""
    return next((i for i, t in enumerate(islice(old, _SLIDE)) if t is first), None)
