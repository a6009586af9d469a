"""The policy file (YAML) as pydantic models; `load_policy(text)` validates and reports every error.

Unknown keys are errors everywhere. Every error carries its key path, e.g.
`windows[2].schedule: cannot parse cron '0 25 * * *'`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from scheduler.classify.model import Classification, SizeClass
from scheduler.errors import PolicyError, UnknownEnvironment
from scheduler.natures import ALL_NATURES, Nature
from scheduler.policy.windows import ALWAYS, ALWAYS_WINDOW, Kind, Window, cron_error
from scheduler.validation import Loc, Strict, error_line

_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = timedelta(days=366)
CONTRACT_PREFIX = "PDM_"


class InvalidPolicy(PolicyError):
    """The policy text is invalid; `errors` lists every problem with its key path."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(
            f"invalid policy ({len(errors)} error{'s' if len(errors) != 1 else ''}): " + "; ".join(errors)
        )


def parse_duration(value: object) -> timedelta:
    """`30m`, `5h`, `14d`, `1h30m`, `0` → timedelta; anything else is a ValueError with an example."""
    if isinstance(value, timedelta):
        return value
    text = (
        str(value).strip().lower() if isinstance(value, str | int) and not isinstance(value, bool) else None
    )
    if text == "0":
        return timedelta(0)
    if text and re.fullmatch(r"(\d+[smhdw])+", text):
        seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION_PART.findall(text))
        if seconds > MAX_DURATION.total_seconds():
            raise ValueError(f"duration {value!r} is longer than {MAX_DURATION.days} days")
        return timedelta(seconds=seconds)
    raise ValueError(f"cannot parse duration {value!r} (use e.g. 30m, 5h, 14d)")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo("UTC"))


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def _check_cron(value: str) -> str:
    error = cron_error(value)
    if error:
        raise ValueError(error)
    return value


TimeZone = Annotated[str, BeforeValidator(lambda v: _check_zone(str(v)))]
Cron = Annotated[str, BeforeValidator(lambda v: _check_cron(str(v)))]


class Mode(StrEnum):
    """How a batch starts: by itself, after an approval in Slack, or only on `/pdm run`."""

    AUTO = "auto"
    APPROVAL = "approval"
    MANUAL = "manual"

    @property
    def rank(self) -> int:
        """Strictness: auto 0 < approval 1 < manual 2."""
        return _MODE_RANK[self]


_MODE_RANK = {mode: i for i, mode in enumerate(Mode)}


class EnvironmentSpec(Strict):
    """One deployment environment."""

    name: str
    baseline: str | None = None
    requires: str | None = None
    min_soak: Duration = timedelta(0)
    variables: dict[str, str] = Field(default_factory=dict)
    pending_strategy: Literal["git", "database"] = "git"

    @field_validator("variables")
    @classmethod
    def _no_contract_variables(cls, value: dict[str, str]) -> dict[str, str]:
        taken = sorted(k for k in value if k.upper().startswith(CONTRACT_PREFIX))
        if taken:
            raise ValueError(
                f"{', '.join(taken)}: variables starting with {CONTRACT_PREFIX} are set by pdm-bot itself"
            )
        return value


class WindowSpec(Strict):
    """A window in the file: `schedule` + `duration`, or an absolute `from`/`to` period."""

    name: str
    kind: Kind
    schedule: Cron | None = None
    duration: Duration | None = None
    start: datetime | None = Field(default=None, alias="from")
    end: datetime | None = Field(default=None, alias="to")
    timezone: TimeZone | None = None
    manual: bool = False  # deny windows only: `/pdm run ENV --now REASON` may run inside it

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be positive")
        return value

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("start")
        if value is not None and start is not None and _as_utc(value) <= _as_utc(start):
            raise ValueError("must be after from")
        return value

    @model_validator(mode="after")
    def _one_shape(self) -> WindowSpec:
        cron = self.schedule is not None or self.duration is not None
        period = self.start is not None or self.end is not None
        if (
            cron == period
            or (cron and (self.schedule is None or self.duration is None))
            or (period and (self.start is None or self.end is None))
        ):
            raise ValueError("give either schedule and duration, or from and to")
        if self.manual and self.kind is not Kind.DENY:
            raise ValueError(
                "manual: true applies to deny windows only (allow windows yield to --now anyway)"
            )
        return self

    def to_window(self, default_zone: str) -> Window:
        """The evaluable window; naive `from`/`to` are read in the window's zone."""
        zone = ZoneInfo(self.timezone or default_zone)
        start = self.start.replace(tzinfo=zone) if self.start and self.start.tzinfo is None else self.start
        end = self.end.replace(tzinfo=zone) if self.end and self.end.tzinfo is None else self.end
        utc = ZoneInfo("UTC")
        start, end = (start.astimezone(utc) if start else None), (end.astimezone(utc) if end else None)
        return Window(self.name, self.kind, zone, self.schedule, self.duration, start, end, self.manual)


class NaturePolicy(Strict):
    """Allowed windows (`always` = no restriction) and start mode of one nature."""

    windows: list[str] = Field(default_factory=lambda: [ALWAYS])
    mode: Mode = Mode.MANUAL


class PrometheusGuard(Strict):
    """Defer while `query` on `prometheus_url` returns a value above `threshold`."""

    prometheus_url: str
    query: str
    threshold: float

    @field_validator("prometheus_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        split = urlsplit(value)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ValueError(f"must be an http:// or https:// URL with a host (got {value!r})")
        return value


class IncidentGuard(Strict):
    """Defer while an issue with these labels is open in the incident project."""

    project: str
    labels: list[str] = Field(default_factory=lambda: ["incident"])


class DeployForecastSpec(Strict):
    """Expect a deploy in each hour-of-week slot that saw one in at least `min_share` of the complete
    past weeks within `lookback` (used when `deploy_schedule` is not set): from the hour's start, or with
    `slot_start: minute` from the minute the slot's deploys start at (deploys on a clock)."""

    lookback: Duration = timedelta(days=28)
    min_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    slot_start: Literal["hour", "minute"] = "hour"

    @field_validator("lookback")
    @classmethod
    def _whole_weeks(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=7):
            raise ValueError("must cover at least one week (e.g. 28d)")
        return value


def _forecast_off(value: object) -> object:
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "false", "none")):
        return None
    return value


class Guards(Strict):
    """Optional guards; the defaults block nothing."""

    min_bake: Duration = timedelta(0)
    preserve_rollback: bool = False
    deploy_schedule: Cron | None = None
    deploy_duration: Duration = timedelta(minutes=60)
    deploy_forecast: Annotated[DeployForecastSpec | None, BeforeValidator(_forecast_off)] = Field(
        default_factory=DeployForecastSpec
    )
    max_db_load: PrometheusGuard | None = None
    incidents: IncidentGuard | None = None


_SIZE_KEYS = ("small", "medium", "large", "over_limit", "unknown")


def _sizes(small: str, medium: str, large: str, over_limit: str, unknown: str) -> dict[str, str]:
    return dict(zip(_SIZE_KEYS, (small, medium, large, over_limit, unknown), strict=True))


DEFAULT_DURATIONS: dict[str, dict[str, str]] = {
    "no_op": _sizes("1m", "1m", "1m", "1m", "1m"),
    "background_scheduling": _sizes("2m", "2m", "2m", "2m", "2m"),
    "index_and_constraint": _sizes("2m", "15m", "1h", "3h", "30m"),
    "data_migration": _sizes("2m", "20m", "2h", "4h", "30m"),
    "ddl_cleanup": _sizes("1m", "3m", "5m", "10m", "5m"),
    "unknown": _sizes("30m", "30m", "30m", "30m", "30m"),
}


class SizeDurations(Strict):
    """Estimated run time of one migration of a nature, by the largest table's size class."""

    small: Duration
    medium: Duration
    large: Duration
    over_limit: Duration
    unknown: Duration

    def for_size(self, size: SizeClass | None) -> timedelta:
        """The estimate for `size` (None: size not known)."""
        return getattr(self, size.value) if size is not None else self.unknown


class Durations(Strict):
    """Estimates per nature and size class, plus a fixed overhead per run (pipeline start-up)."""

    overhead: Duration = timedelta(minutes=10)
    no_op: SizeDurations
    background_scheduling: SizeDurations
    index_and_constraint: SizeDurations
    data_migration: SizeDurations
    ddl_cleanup: SizeDurations
    unknown: SizeDurations

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        for nature, defaults in DEFAULT_DURATIONS.items():
            given = filled.get(nature)
            if given is None:
                filled[nature] = defaults
            elif isinstance(given, str | int) and not isinstance(given, bool):
                filled[nature] = dict.fromkeys(_SIZE_KEYS, given)
            elif isinstance(given, dict):
                filled[nature] = {**defaults, **given}
        return filled

    def for_nature(self, nature: Nature) -> SizeDurations:
        """The estimates of `nature`."""
        value: SizeDurations = getattr(self, nature.value)
        return value


class Approvers(Strict):
    """Slack users and user groups allowed to approve and to use mutating commands."""

    users: list[str] = Field(default_factory=list)
    usergroups: list[str] = Field(default_factory=list)


class WorkingHours(Strict):
    """When proposals may be posted (cron + duration in the policy zone)."""

    schedule: Cron = "0 9 * * 1-5"
    duration: Duration = timedelta(hours=9)

    def window(self, zone: ZoneInfo) -> Window:
        """The working hours as an allow window in `zone`."""
        return Window("working-hours", Kind.ALLOW, zone, self.schedule, self.duration)


class Proposals(Strict):
    """Post proposals for a coming window up to `lead_time` ahead, during working hours: in the last
    `post_within` of the last working hours before the start (None: as soon as the lead time and the
    working hours allow), so one proposal covers what the days before deployed."""

    lead_time: Duration = timedelta(hours=72)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    post_within: Duration | None = timedelta(hours=3)

    @field_validator("post_within")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be positive, or null to post proposals as early as the lead time allows")
        return value


class Ordering(StrEnum):
    """`prefix`: runs execute a prefix of the framework's order; `independent`: a light migration may
    run before earlier pending ones it shares no table with (its own tables known)."""

    PREFIX = "prefix"
    INDEPENDENT = "independent"


class Policy(Strict):
    """The whole policy file."""

    timezone: TimeZone = "UTC"
    environments: list[EnvironmentSpec] = Field(min_length=1)
    windows: list[WindowSpec] = Field(default_factory=list)
    natures: dict[Nature, NaturePolicy] = Field(default_factory=dict)
    guards: Guards = Field(default_factory=Guards)
    durations: Durations = Field(default_factory=lambda: Durations.model_validate({}))
    table_sizes: dict[str, SizeClass] = Field(default_factory=dict)
    approvers: Approvers = Field(default_factory=Approvers)
    two_person_natures: list[Nature] = Field(default_factory=list)
    ordering: Ordering = Ordering.PREFIX
    proposals: Proposals = Field(default_factory=Proposals)
    # Regex matched against messages of the release channel (a deploy-notifier bot's announcements);
    # named groups `environment` and `sha` (optional `deployment_id`). A match counts as a deployment.
    deploy_message_pattern: str | None = None

    _windows: dict[str, Window] = PrivateAttr(default_factory=dict)
    _window_sets: dict[Nature, tuple[tuple[Window, ...], tuple[Window, ...]]] = PrivateAttr(
        default_factory=dict
    )
    _estimates: dict[int, tuple[Classification, timedelta]] = PrivateAttr(default_factory=dict)
    _deploy_message: re.Pattern[str] | None = PrivateAttr(default=None)
    _working_hours: tuple[WorkingHours, str, Window] | None = PrivateAttr(default=None)

    @field_validator("deploy_message_pattern")
    @classmethod
    def _deploy_groups(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            groups = re.compile(value).groupindex
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        missing = [g for g in ("environment", "sha") if g not in groups]
        if missing:
            raise ValueError("needs the named groups " + " and ".join(f"(?P<{g}>...)" for g in missing))
        return value

    @field_validator("natures", mode="before")
    @classmethod
    def _natures_mapping(cls, value: Any) -> Any:
        return value if value is not None else {}

    def model_post_init(self, context: Any, /) -> None:
        """Compile the windows and the deploy message pattern once."""
        self._windows = {w.name: w.to_window(self.timezone) for w in self.windows}
        if self.deploy_message_pattern is not None:
            self._deploy_message = re.compile(self.deploy_message_pattern)

    @property
    def deploy_message(self) -> re.Pattern[str] | None:
        """The compiled `deploy_message_pattern` (None: deploys come from the GitLab webhook only)."""
        return self._deploy_message

    @property
    def working_hours(self) -> Window:
        """`proposals.working_hours` as an allow window in the policy's zone, built once (again after a
        `model_copy` that changes them)."""
        hours, built = self.proposals.working_hours, self._working_hours
        if built is None or built[0] is not hours or built[1] != self.timezone:
            built = self._working_hours = (hours, self.timezone, hours.window(self.zone))
        return built[2]

    @property
    def zone(self) -> ZoneInfo:
        """The policy's default time zone."""
        return ZoneInfo(self.timezone)

    def environment(self, name: str) -> EnvironmentSpec:
        """The environment called `name`, or UnknownEnvironment listing the known ones."""
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments)
        raise UnknownEnvironment(f"no environment '{name}' in policy; known: {known}")

    def nature_policy(self, nature: Nature) -> NaturePolicy:
        """The entry of `nature`; a missing nature takes the nearest more restrictive one given,
        and with none given `{windows: [always], mode: manual}`."""
        for candidate in ALL_NATURES[nature.rank :]:
            if candidate in self.natures:
                return self.natures[candidate]
        return NaturePolicy()

    def allow_windows(self, nature: Nature) -> list[Window]:
        """The evaluable allow windows of `nature`."""
        return [
            ALWAYS_WINDOW if n == ALWAYS else self._windows[n] for n in self.nature_policy(nature).windows
        ]

    def window_sets(self, nature: Nature) -> tuple[tuple[Window, ...], tuple[Window, ...]]:
        """`allow_windows(nature)` and `deny_windows`, built once per nature (the planner asks at every
        step)."""
        sets: dict[Nature, tuple[tuple[Window, ...], tuple[Window, ...]]] = (self.__pydantic_private__ or {})[
            "_window_sets"
        ]
        found = sets.get(nature)
        if found is None:
            found = sets[nature] = (tuple(self.allow_windows(nature)), tuple(self.deny_windows))
        return found

    @property
    def deny_windows(self) -> list[Window]:
        """Deny windows apply to every nature."""
        return [w for w in self._windows.values() if w.kind is Kind.DENY]

    @property
    def deploy_window(self) -> Window | None:
        """Expected deploys as a window: each fire of `deploy_schedule` holds for `deploy_duration`."""
        g = self.guards
        if g.deploy_schedule is None:
            return None
        return Window("deploy", Kind.DENY, self.zone, g.deploy_schedule, g.deploy_duration)

    def size_of(self, classification: Classification) -> SizeClass | None:
        """Largest size class of the touched tables, from the classification and `table_sizes`."""
        sizes = dict(classification.table_sizes)
        for table in classification.tables:
            if table in self.table_sizes:
                sizes.setdefault(table, self.table_sizes[table])
        return max(sizes.values(), key=_SIZE_RANK.__getitem__, default=None)

    def estimate(self, classification: Classification) -> timedelta:
        """Estimated run time of one migration (without the per-run overhead)."""
        return self.estimates([classification])[0]

    def estimates(self, classifications: Iterable[Classification]) -> list[timedelta]:
        """`estimate` of each, memoised per classification object (`sized`)."""
        return [estimate for _, estimate in self.sized(classifications)]

    def sized(self, classifications: Iterable[Classification]) -> list[tuple[SizeClass | None, timedelta]]:
        """`size_of` and `estimate` of each, memoised per classification object (the memo keeps it alive):
        the planner asks for the same migrations at every step."""
        memo: dict[int, tuple[Classification, SizeClass | None, timedelta]] = (
            self.__pydantic_private__ or {}
        )["_estimates"]
        out: list[tuple[SizeClass | None, timedelta]] = []
        for classification in classifications:
            hit = memo.get(id(classification))
            if hit is None or hit[0] is not classification:
                nature = self.durations.for_nature(classification.primary_nature)
                size = self.size_of(classification)
                hit = (classification, size, nature.for_size(size))
                if len(memo) >= _ESTIMATES_KEPT:
                    memo.clear()
                memo[id(classification)] = hit
            out.append((hit[1], hit[2]))
        return out


_ESTIMATES_KEPT = 2_000  # small: the worker's classifications are new at every evaluation (see plan._KEPT)
_ALIASES = {"start": "from", "end": "to"}
_SIZE_RANK = {size: i for i, size in enumerate(SizeClass)}


def _aliased(loc: Loc) -> Loc:
    return tuple(_ALIASES.get(p, p) if isinstance(p, str) else p for p in loc)


def _describe(error: Mapping[str, Any], loc: Loc, at_key: bool) -> str | None:
    if at_key:
        label = "unknown nature" if len(loc) >= 2 and loc[0] in ("natures",) else "invalid key"
        known = ", ".join(n.value for n in ALL_NATURES)
        return f"{label} {loc[-1]!r}; known: {known}"
    if error["type"] in ("enum", "literal_error"):
        return f"must be {error['ctx']['expected']} (got {error['input']!r})"
    return None


def _reference_errors(raw: dict[str, Any]) -> list[str]:
    """Cross-references checked on the raw data, so they are reported alongside field errors."""
    errors: list[str] = []
    windows = raw.get("windows") if isinstance(raw.get("windows"), list) else []
    kinds: dict[str, str] = {}
    for i, w in enumerate(windows or []):
        if isinstance(w, dict) and isinstance(w.get("name"), str):
            if w["name"] == ALWAYS:
                errors.append(f"windows[{i}].name: '{ALWAYS}' is reserved (it means no restriction)")
            elif w["name"] in kinds:
                errors.append(f"windows[{i}].name: duplicate window '{w['name']}'")
            kinds.setdefault(w["name"], str(w.get("kind")))
    natures = raw.get("natures") if isinstance(raw.get("natures"), dict) else {}
    for nature, entry in (natures or {}).items():
        names = entry.get("windows") if isinstance(entry, dict) else None
        for name in names if isinstance(names, list) else []:
            if name != ALWAYS and name not in kinds:
                errors.append(f"natures.{nature}.windows: unknown window '{name}'")
            elif kinds.get(name) == "deny":
                errors.append(
                    f"natures.{nature}.windows: '{name}' is a deny window "
                    "(deny windows apply to every nature)"
                )
    envs = raw.get("environments") if isinstance(raw.get("environments"), list) else []
    env_names: list[str] = [
        e["name"] for e in envs or [] if isinstance(e, dict) and isinstance(e.get("name"), str)
    ]
    seen: set[str] = set()
    for i, env in enumerate(envs or []):
        if not isinstance(env, dict):
            continue
        name, requires = env.get("name"), env.get("requires")
        if name in seen:
            errors.append(f"environments[{i}].name: duplicate environment '{name}'")
        seen.add(str(name))
        if requires is not None and requires == name:
            errors.append(f"environments[{i}].requires: an environment cannot require itself")
        elif requires is not None and requires not in env_names:
            errors.append(f"environments[{i}].requires: unknown environment '{requires}'")
    return errors


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (plain YAML keeps the last one)."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        duplicates = _duplicate_keys(node, "", set())
        if duplicates:
            raise InvalidPolicy(duplicates)
        return self.construct_document(node)


def _duplicate_keys(node: yaml.Node, path: str, visited: set[int]) -> list[str]:
    """`key.path: duplicate key (line N)` for every key repeated in a mapping under `node` (each node
    once: an alias may point back at its own anchor)."""
    out: list[str] = []
    if id(node) in visited:
        return out
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else None
            where = f"{path}.{name}" if path and name is not None else name or path or "policy"
            if name is not None and name in seen:
                out.append(f"{where}: duplicate key (line {key.start_mark.line + 1})")
            elif name is not None:
                seen.add(name)
            out += _duplicate_keys(value, where, visited)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out += _duplicate_keys(item, f"{path}[{i}]", visited)
    return out


def load_policy(text: str) -> Policy:
    """Parse and validate policy YAML; raises InvalidPolicy with every error and its key path (a key
    repeated in one mapping is an error too)."""
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidPolicy([f"policy: {where}not valid YAML ({problem})"]) from None
    if raw is None:
        raise InvalidPolicy(["policy: the file is empty"])
    if not isinstance(raw, dict):
        raise InvalidPolicy([f"policy: must be a mapping of keys, got {type(raw).__name__}"])
    errors = _reference_errors(raw)
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        lines = [error_line(e, root="policy", relocate=_aliased, describe=_describe) for e in exc.errors()]
        raise InvalidPolicy(lines + errors) from None
    if errors:
        raise InvalidPolicy(errors)
    return policy
