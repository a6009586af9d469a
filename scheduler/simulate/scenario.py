"""The scenario of a simulation (JSON): deploys, traffic, incidents, the simulated release manager.

`load_scenario(text)` validates everything and raises ScenarioError whose message names the key path
of every problem, e.g. `deploys[3].migrations[0].nature: unknown nature 'foo'; known: ...`.
Generated deploys (`{"generate": {...}}`) are expanded by `scheduler.simulate.generate` and checked
like explicit ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from scheduler.classify.model import SizeClass
from scheduler.errors import ScenarioError
from scheduler.natures import ALL_NATURES, Nature
from scheduler.policy.model import WorkingHours
from scheduler.policy.windows import UTC, Window
from scheduler.validation import Loc, Strict, error_line


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone (e.g. 2026-01-05T00:00:00Z)")
    return value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_aware)]
Minutes = Annotated[int, Field(ge=0)]
FractionalMinutes = Annotated[float, Field(ge=0)]


class MigrationSpec(Strict):
    """One post-deploy migration brought by a deploy."""

    version: Annotated[str, Field(pattern=r"^\d+$")]
    nature: Nature
    duration_minutes: FractionalMinutes
    size: SizeClass | None = None
    tables: list[str] | None = None  # what `ordering: independent` needs; None: unknown tables


class DeploySpec(Strict):
    """One deploy of a package to an environment, at its scheduled start."""

    at: Instant
    environment: str
    sha: str
    duration_minutes: FractionalMinutes = 60
    migrations: list[MigrationSpec] = Field(default_factory=list)

    @property
    def end(self) -> datetime:
        """Scheduled end (when nothing delays the start)."""
        return self.at + timedelta(minutes=self.duration_minutes)


Range = tuple[int, int]


def _range(value: Range) -> Range:
    if value[0] > value[1]:
        raise ValueError(f"[low, high] needs low <= high (got {list(value)})")
    return value


IntRange = Annotated[tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]], AfterValidator(_range)]

DEFAULT_MIGRATION_MINUTES: dict[Nature, Range] = {
    Nature.NO_OP: (1, 1),
    Nature.BACKGROUND_SCHEDULING: (1, 3),
    Nature.INDEX_AND_CONSTRAINT: (3, 60),
    Nature.DATA_MIGRATION: (5, 90),
    Nature.DDL_CLEANUP: (1, 10),
    Nature.UNKNOWN: (2, 30),
}


class GenerateSpec(Strict):
    """Deterministic deploy generation: the same spec (and seed) always gives the same deploys.

    Each weekday gets `per_day` packages (weekends `weekend_per_day`), started at a random minute of
    equal slots between `hours[0]` and `hours[1]` UTC (within `jitter_minutes` of the slot's start, when
    given: an auto-deploy on a clock); every package is deployed to the environments
    in order, `promote_minutes` apart, and brings `migrations_per_deploy` migrations drawn from `mix`.
    """

    per_day: IntRange | int
    weekend_per_day: IntRange | int = 0
    seed: int
    mix: dict[Nature, Annotated[float, Field(ge=0)]]
    migrations_per_deploy: IntRange = (0, 3)
    deploy_minutes: IntRange = (40, 70)
    promote_minutes: Minutes = 120
    hours: IntRange = (0, 24)
    durations: dict[Nature, IntRange] = Field(default_factory=dict)
    bursts: list[BurstSpec] = Field(default_factory=list)
    tables: Annotated[int, Field(ge=0)] = 0  # >0: each migration but a no-op touches 1–2 of this many
    history_weeks: Annotated[int, Field(ge=0, le=52)] = 0  # the same cadence before `start`, as history
    jitter_minutes: Minutes | None = None  # a package starts within this of its slot's start (cron-like)

    @field_validator("mix")
    @classmethod
    def _some_weight(cls, value: dict[Nature, float]) -> dict[Nature, float]:
        if not value or sum(value.values()) <= 0:
            raise ValueError("needs at least one nature with a positive weight")
        return value

    @field_validator("hours")
    @classmethod
    def _day_hours(cls, value: Range) -> Range:
        if value[1] > 24 or value[0] == value[1]:
            raise ValueError(f"needs 0 <= first < last <= 24 (got {list(value)})")
        return value

    def minutes_of(self, nature: Nature) -> Range:
        """Duration range of a migration of `nature`."""
        return self.durations.get(nature, DEFAULT_MIGRATION_MINUTES[nature])


class BurstSpec(Strict):
    """Release-day bursts: on `weekday` (0 = Monday) every `every_weeks` weeks, `per_day` packages."""

    weekday: Annotated[int, Field(ge=0, le=6)]
    per_day: Annotated[int, Field(ge=1)]
    every_weeks: Annotated[int, Field(ge=1)] = 1


class Generated(Strict):
    """`"deploys": {"generate": {...}}`."""

    generate: GenerateSpec


def _deploys_kind(value: Any) -> str | None:
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "generate"
    return None


class Traffic(Strict):
    """Hourly traffic curve (UTC hours, 0..1), damped on weekends; peak when >= `peak_threshold`."""

    hourly: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=24, max_length=24)]
    weekend_factor: Annotated[float, Field(ge=0, le=1)] = 1.0
    peak_threshold: Annotated[float, Field(ge=0, le=1)] = 0.7

    def at(self, instant: datetime) -> float:
        """Traffic at `instant`."""
        t = instant.astimezone(UTC)
        return self.hourly[t.hour] * (self.weekend_factor if t.weekday() >= 5 else 1.0)

    def is_peak(self, instant: datetime) -> bool:
        """Whether traffic is at or above the peak threshold at `instant`."""
        return self.at(instant) >= self.peak_threshold


class Incident(Strict):
    """An incident open from `start` to `end` (every environment)."""

    start: Instant
    end: Instant

    @model_validator(mode="after")
    def _ordered(self) -> Incident:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class ReleaseManagerHours(Strict):
    """When the simulated release manager answers (UTC hours): the policy's working hours
    `0 <start_hour> * * 1-5` (every day when not `weekdays_only`) for `end_hour - start_hour` hours."""

    start_hour: Annotated[int, Field(ge=0, le=23)] = 9
    end_hour: Annotated[int, Field(ge=1, le=24)] = 17
    weekdays_only: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> ReleaseManagerHours:
        if self.end_hour <= self.start_hour:
            raise ValueError("end_hour must be after start_hour")
        return self

    @property
    def window(self) -> Window:
        """The hours as the policy's working-hours window."""
        days = "1-5" if self.weekdays_only else "*"
        hours = WorkingHours(
            schedule=f"0 {self.start_hour} * * {days}",
            duration=timedelta(hours=self.end_hour - self.start_hour),
        )
        return hours.window(UTC)

    def next_answer(self, at: datetime) -> datetime:
        """`at` if it is in working hours, else the next opening."""
        window = self.window
        if window.is_open(at):
            return at
        opening = window.next_open(at)
        assert opening is not None  # the hours open every week
        return opening


class ReleaseManager(Strict):
    """The simulated release manager: approves proposals and asks for manual runs in working hours,
    `approval_delay_minutes` after the bot asked."""

    working_hours: ReleaseManagerHours = Field(default_factory=ReleaseManagerHours)
    approval_delay_minutes: Minutes = 30

    def answer_at(self, asked_at: datetime) -> datetime:
        """When a request posted at `asked_at` gets its answer."""
        return self.working_hours.next_answer(asked_at + timedelta(minutes=self.approval_delay_minutes))


class HistoryDeploy(Strict):
    """A deploy before the simulated period that the bot already knows (it feeds the forecast)."""

    at: Instant
    environment: str


class Scenario(Strict):
    """A whole scenario; `deploys` is always explicit after `load_scenario`."""

    start: Instant
    days: Annotated[int, Field(ge=1, le=3660)]
    environments: Annotated[list[str], Field(min_length=1)]
    traffic: Traffic
    deploys: Annotated[
        Annotated[list[DeploySpec], Tag("list")] | Annotated[Generated, Tag("generate")],
        Discriminator(
            _deploys_kind,
            custom_error_type="deploys_shape",
            custom_error_message='must be a list of deploys or {"generate": {...}}',
        ),
    ]
    incidents: list[Incident] = Field(default_factory=list)
    manual_hour: Annotated[int, Field(ge=0, le=23)] = 10
    release_manager: ReleaseManager = Field(default_factory=ReleaseManager)
    name: str = ""
    description: str = ""
    history: list[HistoryDeploy] = Field(default_factory=list)

    @property
    def end(self) -> datetime:
        """End of the simulated period."""
        return self.start + timedelta(days=self.days)

    @property
    def deploy_list(self) -> list[DeploySpec]:
        """The explicit deploys (after `load_scenario`, never generated)."""
        assert isinstance(self.deploys, list)
        return self.deploys


def _untagged(loc: Loc) -> Loc:
    if loc[:1] == ("deploys",) and loc[1:2] in (("list",), ("generate",)):
        return loc[:1] + loc[2:]  # drop the union tag
    return loc


def _describe(error: Mapping[str, Any], loc: Loc, at_key: bool) -> str | None:
    if error["type"] == "enum":  # the only enum here is Nature, as a field or as a mapping key
        known = ", ".join(n.value for n in ALL_NATURES)
        return f"unknown nature {error['input']!r}; known: {known}"
    if error["type"].startswith("datetime"):
        return f"not an ISO 8601 date-time (got {error['input']!r})"
    return None


def _cross_errors(scenario: Scenario) -> list[str]:
    """Checks across fields: environments, order and overlap per environment, period, versions."""
    errors: list[str] = []
    envs = scenario.environments
    if len(set(envs)) != len(envs):
        errors.append("environments: duplicate environment")
    last: dict[str, tuple[int, DeploySpec]] = {}
    versions: dict[tuple[str, str], int] = {}
    for i, d in enumerate(scenario.deploy_list):
        where = f"deploys[{i}]"
        if d.environment not in envs:
            errors.append(
                f"{where}.environment: unknown environment {d.environment!r}; known: {', '.join(envs)}"
            )
        if not scenario.start <= d.at < scenario.end:
            errors.append(f"{where}.at: {d.at.isoformat()} is outside the simulated period")
        previous = last.get(d.environment)
        if previous is not None:
            j, p = previous
            if d.at < p.at:
                errors.append(
                    f"{where}.at: deploys of {d.environment} must be sorted by time "
                    f"({d.at.isoformat()} is before deploys[{j}] at {p.at.isoformat()})"
                )
            elif d.at < p.end:
                errors.append(
                    f"{where}.at: overlaps deploys[{j}] on {d.environment} "
                    f"(which runs until {p.end.isoformat()})"
                )
        last[d.environment] = (i, d)
        for k, m in enumerate(d.migrations):
            key = (d.environment, m.version)
            if key in versions:
                errors.append(
                    f"{where}.migrations[{k}].version: {m.version} already came with "
                    f"deploys[{versions[key]}] on {d.environment}"
                )
            versions.setdefault(key, i)
    for i, h in enumerate(scenario.history):
        if h.environment not in envs:
            errors.append(
                f"history[{i}].environment: unknown environment {h.environment!r}; known: {', '.join(envs)}"
            )
        if h.at >= scenario.start:
            errors.append(f"history[{i}].at: {h.at.isoformat()} is not before the simulated period")
    for i, incident in enumerate(scenario.incidents):
        if incident.start >= scenario.end or incident.end <= scenario.start:
            errors.append(f"incidents[{i}]: outside the simulated period")
    return errors


def parse_scenario(raw: Any) -> Scenario:
    """Validate decoded JSON; generated deploys are expanded. Raises ScenarioError."""
    from scheduler.simulate.generate import generate_deploys

    if not isinstance(raw, dict):
        raise ScenarioError(f"invalid scenario: scenario: must be an object, got {type(raw).__name__}")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = [
            error_line(
                e,
                root="scenario",
                relocate=_untagged,
                describe=_describe,
                own_message=("value_error", "deploys_shape"),
            )
            for e in exc.errors()
        ]
        raise ScenarioError(f"invalid scenario: {'; '.join(errors)}") from None
    if isinstance(scenario.deploys, Generated):
        deploys, history = generate_deploys(scenario.deploys.generate, scenario)
        scenario = scenario.model_copy(update={"deploys": deploys, "history": [*scenario.history, *history]})
    errors = _cross_errors(scenario)
    if errors:
        raise ScenarioError(f"invalid scenario: {'; '.join(errors)}")
    return scenario


def load_scenario(text: str) -> Scenario:
    """Parse and validate scenario JSON text. Raises ScenarioError naming the key path."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"invalid scenario: scenario: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_scenario(raw)
