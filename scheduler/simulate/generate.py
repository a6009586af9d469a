"""Deterministic deploy generation: `random.Random(seed)` only, so a seed always gives the same month."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scheduler.classify.model import SizeClass
from scheduler.natures import Nature

if TYPE_CHECKING:
    from scheduler.simulate.scenario import DeploySpec, GenerateSpec, HistoryDeploy, MigrationSpec, Scenario

_SIZE_LIMITS = ((5, SizeClass.SMALL), (20, SizeClass.MEDIUM), (60, SizeClass.LARGE))


def size_for(minutes: float) -> SizeClass:
    """A table size class consistent with a migration's duration (used for the planner's estimate)."""
    for limit, size in _SIZE_LIMITS:
        if minutes <= limit:
            return size
    return SizeClass.OVER_LIMIT


def _count(rng: random.Random, value: tuple[int, int] | int) -> int:
    return value if isinstance(value, int) else rng.randint(value[0], value[1])


def _migrations(
    rng: random.Random, spec: GenerateSpec, authored: datetime, serial: int
) -> list[MigrationSpec]:
    from scheduler.simulate.scenario import MigrationSpec

    natures = list(spec.mix)
    weights = [spec.mix[n] for n in natures]
    out = []
    for k in range(_count(rng, spec.migrations_per_deploy)):
        nature: Nature = rng.choices(natures, weights)[0]
        low, high = spec.minutes_of(nature)
        minutes = rng.randint(low, high)
        version = (authored + timedelta(seconds=serial * 10 + k)).strftime("%Y%m%d%H%M%S")
        out.append(
            MigrationSpec(version=version, nature=nature, duration_minutes=minutes, size=size_for(minutes))
        )
    if spec.tables:  # drawn from their own stream: adding tables keeps a seed's deploys and natures
        pool = random.Random(f"{spec.seed}:{serial}")
        drawn = [sorted(pool.sample(range(spec.tables), pool.randint(1, 2))) for _ in out]
        out = [
            m.model_copy(update={"tables": _touched(m.nature, tables)})
            for m, tables in zip(out, drawn, strict=True)
        ]
    return out


def _touched(nature: Nature, drawn: list[int]) -> list[str]:
    """The tables a generated migration lists: none for a no-op (the classifier reports every no-op as
    touching no table), else the drawn ones (drawn for a no-op too, so that the others keep theirs)."""
    return [] if nature is Nature.NO_OP else [f"table_{t:03d}" for t in drawn]


def _packages(
    rng: random.Random, spec: GenerateSpec, first_day: datetime, days: int
) -> Iterator[tuple[datetime, int]]:
    """(start, duration in minutes) of each package, day by day in equal slots, at a random minute of its
    slot or within `jitter_minutes` of its start (lazily: the caller's draws for a package come before
    the next package's)."""
    first, last = spec.hours
    for day in range(days):
        midnight = first_day + timedelta(days=day)
        count = _count(rng, spec.weekend_per_day if midnight.weekday() >= 5 else spec.per_day)
        for burst in spec.bursts:
            week = (midnight - datetime(2000, 1, 3, tzinfo=midnight.tzinfo)).days // 7
            if midnight.weekday() == burst.weekday and week % burst.every_weeks == 0:
                count = burst.per_day
        if not count:
            continue
        slot = (last - first) * 60 // count
        for n in range(count):
            duration = rng.randint(*spec.deploy_minutes)
            latest = max(slot - duration, 0)
            if spec.jitter_minutes is not None:
                latest = min(spec.jitter_minutes, latest)
            offset = rng.randint(0, latest)
            yield midnight + timedelta(minutes=first * 60 + n * slot + offset), duration


def generate_deploys(spec: GenerateSpec, scenario: Scenario) -> tuple[list[DeploySpec], list[HistoryDeploy]]:
    """Packages per day in equal slots (bursts on release days), each deployed to every environment in
    order; and `history_weeks` of the same cadence before the start, as known history."""
    from scheduler.simulate.scenario import DeploySpec, HistoryDeploy

    rng = random.Random(spec.seed)
    midnight = scenario.start.replace(hour=0, minute=0, second=0, microsecond=0)
    deploys: list[DeploySpec] = []
    for serial, (at, duration) in enumerate(_packages(rng, spec, midnight, scenario.days)):
        sha = f"{rng.getrandbits(40):010x}"
        migrations = _migrations(rng, spec, at - timedelta(days=2), serial)
        for e, env in enumerate(scenario.environments):
            when = at + timedelta(minutes=e * spec.promote_minutes)
            if scenario.start <= when < scenario.end:
                deploys.append(
                    DeploySpec(
                        at=when, environment=env, sha=sha, duration_minutes=duration, migrations=migrations
                    )
                )
    past = random.Random(f"{spec.seed}:history")
    days = spec.history_weeks * 7
    history = [
        HistoryDeploy(at=at + timedelta(minutes=e * spec.promote_minutes), environment=env)
        for at, _ in _packages(past, spec, midnight - timedelta(days=days), days)
        for e, env in enumerate(scenario.environments)
        if at + timedelta(minutes=e * spec.promote_minutes) < scenario.start
    ]
    return sorted(deploys, key=lambda d: d.at), sorted(history, key=lambda h: h.at)
