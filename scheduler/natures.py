"""Natures of post-deploy migrations and their order of restrictiveness."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Nature(StrEnum):
    """What a post-deploy migration does to production (see shared/migration-natures.md)."""

    NO_OP = "no_op"
    BACKGROUND_SCHEDULING = "background_scheduling"
    INDEX_AND_CONSTRAINT = "index_and_constraint"
    DATA_MIGRATION = "data_migration"
    DDL_CLEANUP = "ddl_cleanup"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Restrictiveness: 0 for `no_op` up to 5 for `unknown`."""
        return _RANK[self]

    @property
    def is_heavy(self) -> bool:
        """Heavy natures load the database or take locks; only `no_op` and background scheduling are light."""
        return self not in LIGHT_NATURES


_ORDER: tuple[Nature, ...] = (
    Nature.NO_OP,
    Nature.BACKGROUND_SCHEDULING,
    Nature.INDEX_AND_CONSTRAINT,
    Nature.DATA_MIGRATION,
    Nature.DDL_CLEANUP,
    Nature.UNKNOWN,
)
_RANK: dict[Nature, int] = {nature: rank for rank, nature in enumerate(_ORDER)}
LIGHT_NATURES = frozenset({Nature.NO_OP, Nature.BACKGROUND_SCHEDULING})
ALL_NATURES: tuple[Nature, ...] = _ORDER


def most_restrictive(natures: Iterable[Nature]) -> Nature:
    """The most restrictive of `natures`; `no_op` when there are none."""
    return max(natures, key=lambda n: n.rank, default=Nature.NO_OP)


def by_restrictiveness(natures: Iterable[Nature]) -> list[Nature]:
    """`natures` without repeats, most restrictive first."""
    return sorted(set(natures), key=_RANK.__getitem__, reverse=True)
