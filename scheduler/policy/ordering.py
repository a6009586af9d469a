"""The order runs execute pending migrations in (pure).

The framework's order is version order, except that migrations declaring a `milestone` (GitLab ≥ 17.1)
sort by milestone first, then by version; migrations without one sort as if from the milestone of the
nearest declaring migration before them (so undeclared ones keep their place among declared ones).

With the policy's `ordering: independent`, a light migration (`no_op`, `background_scheduling`) that
is ready now moves ahead of the earlier pending migrations it jumps over when its own tables are known
and it shares no table with any of them; the others keep their order, and a held version keeps every
later one behind it. A no-op touches no table: its tables are known (none), it may pass anything, and
it keeps nothing behind it. A partitioned table and its partitions count as one table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from scheduler.natures import Nature
from scheduler.policy.decision import PendingMigration

LIGHT = frozenset({Nature.NO_OP, Nature.BACKGROUND_SCHEDULING})
_VERSION = attrgetter("version")
_MILESTONE = attrgetter("classification.milestone")


def _milestone_key(text: str | None) -> tuple[int, ...]:
    """`17.1` → (17, 1); unparsable or absent → () (sorts first)."""
    if not text:
        return ()
    parts: list[int] = []
    for part in text.strip().split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def version_key(m: PendingMigration) -> tuple[int, str]:
    """Numeric version order of migrations (versions are digit strings)."""
    return len(m.version), m.version


def framework_order(items: Sequence[PendingMigration]) -> list[PendingMigration]:
    """Version order, or milestone-then-version order when files declare milestones."""
    same_length = len(set(map(len, map(_VERSION, items)))) <= 1
    by_version = sorted(items, key=_VERSION if same_length else version_key)
    if not any(map(_MILESTONE, by_version)):
        return by_version
    keyed: list[tuple[tuple[int, ...], int, PendingMigration]] = []
    current: tuple[int, ...] = ()
    for i, m in enumerate(by_version):
        if m.classification.milestone:
            current = _milestone_key(m.classification.milestone)
        keyed.append((current, i, m))
    return [m for _, _, m in sorted(keyed, key=lambda k: (k[0], k[1]))]


@dataclass(frozen=True)
class Jump:
    """A light migration moved ahead of earlier pending ones, and why that is safe."""

    version: str
    nature: Nature
    passes: tuple[str, ...]
    tables: tuple[str, ...]

    def describe(self) -> str:
        """`20260110 (background_scheduling) runs before 20260101, 20260102: shares no table …`."""
        shown = ", ".join(self.passes[:3]) + (
            f" and {len(self.passes) - 3} more" if len(self.passes) > 3 else ""
        )
        tables = ", ".join(self.tables)
        why = f"it shares no table with them (its tables: {tables})" if tables else "it touches no table"
        return f"{self.version} ({self.nature.value}) runs before earlier pending {shown}: {why}"


_PARTITION = re.compile(r"_\d+$")


def _families(tables: Sequence[str]) -> set[str]:
    """The tables as their partition families: a partitioned table (`p_ci_builds`, GitLab's prefix for
    one), the partitions in GitLab's partition schemas (`gitlab_partitions_dynamic.ci_builds_101`) and
    the table it replaced (`ci_builds`, now its first partition) share rows, so they count as one."""
    out = set()
    for table in tables:
        schema, _, name = table.rpartition(".")
        name = name.removeprefix("p_")
        out.add(_PARTITION.sub("", name) if schema.startswith("gitlab_partitions") else name)
    return out


def passers(ordered: Sequence[PendingMigration], held: Sequence[str]) -> list[PendingMigration]:
    """Light migrations with known tables that share none with any earlier one (they may pass them
    once ready), in order, up to the first held version."""
    out: list[PendingMigration] = []
    seen: set[str] = set()
    unknown = False
    for m in ordered:
        if m.version in held:
            break
        known, tables = m.classification.tables_known, _families(m.classification.tables)
        if m.classification.primary_nature in LIGHT and known and not unknown and not tables & seen:
            out.append(m)
        unknown = unknown or not known
        seen |= tables
    return out


def passing_notes(
    ordered: Sequence[PendingMigration], held: Sequence[str], versions: Sequence[str]
) -> list[str]:
    """For the diff: which of `versions` may run before earlier pending migrations, and why it is safe."""
    wanted = set(versions)
    out = []
    for m in passers(ordered, held):
        earlier = [o.version for o in ordered[: ordered.index(m)]]
        if m.version in wanted and earlier:
            jump = Jump(
                m.version, m.classification.primary_nature, tuple(earlier), tuple(m.classification.tables)
            )
            out.append(jump.describe().replace(" runs before ", " may run before ", 1))
    return out


def independent_order(
    ordered: Sequence[PendingMigration], ready: Callable[[PendingMigration], bool], held: Sequence[str]
) -> tuple[list[PendingMigration], list[Jump]]:
    """Move every light, ready migration with known tables ahead of the earlier ones it shares no
    table with; a held version stops every later one from moving."""
    moved: list[PendingMigration] = []
    stay: list[PendingMigration] = []
    jumps: list[Jump] = []
    stay_tables: set[str] = set()
    stay_unknown = False
    held_seen = False
    for m in ordered:
        held_seen = held_seen or m.version in held
        known, tables = m.classification.tables_known, _families(m.classification.tables)
        movable = (
            not held_seen
            and m.classification.primary_nature in LIGHT
            and known
            and not stay_unknown
            and not tables & stay_tables
            and ready(m)
        )
        if movable:
            if stay:
                jumps.append(
                    Jump(
                        m.version,
                        m.classification.primary_nature,
                        tuple(s.version for s in stay),
                        tuple(sorted(tables)),
                    )
                )
            moved.append(m)
            continue
        stay.append(m)
        stay_unknown = stay_unknown or not known
        stay_tables |= tables
    return moved + stay, jumps
