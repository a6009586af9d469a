"""Deterministic deploy generation: `random.Random(seed)` only, so a seed always gives the same month."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scheduler.classify.model import SizeClass
from scheduler.natures import Nature

if TYPE_CHECKING:
    from scheduler.simulate.scenario import DeploySpec, GenerateSpec, MigrationSpec, Scenario

_SIZE_LIMITS = ((5, SizeClass.SMALL), (20, SizeClass.MEDIUM), (60, SizeClass.LARGE))


def size_for(minutes: int) -> SizeClass:
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
    return out


def generate_deploys(spec: GenerateSpec, scenario: Scenario) -> list[DeploySpec]:
    """Packages per day in equal slots, each deployed to every environment in order."""
    from scheduler.simulate.scenario import DeploySpec

    rng = random.Random(spec.seed)
    first, last = spec.hours
    deploys: list[DeploySpec] = []
    serial = 0
    for day in range(scenario.days):
        midnight = scenario.start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=day)
        count = _count(rng, spec.weekend_per_day if midnight.weekday() >= 5 else spec.per_day)
        if not count:
            continue
        slot = (last - first) * 60 // count
        for n in range(count):
            duration = rng.randint(*spec.deploy_minutes)
            offset = rng.randint(0, max(slot - duration, 0))
            at = midnight + timedelta(minutes=first * 60 + n * slot + offset)
            sha = f"{rng.getrandbits(40):010x}"
            migrations = _migrations(rng, spec, at - timedelta(days=2), serial)
            serial += 1
            for e, env in enumerate(scenario.environments):
                when = at + timedelta(minutes=e * spec.promote_minutes)
                if scenario.start <= when < scenario.end:
                    deploys.append(
                        DeploySpec(
                            at=when,
                            environment=env,
                            sha=sha,
                            duration_minutes=duration,
                            migrations=migrations,
                        )
                    )
    return sorted(deploys, key=lambda d: d.at)
