"""Encoding of records and Redis replies shared by every part of the store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")

# Scripts acting on a key only while it still holds the caller's value (a lock or a lease).
RENEW_IF_OWNER = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
)
RELEASE_IF_OWNER = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


def text(value: Any) -> str:
    """A reply as `str` (clients without `decode_responses` answer bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def dump(record: Any) -> str:
    """A record's JSON text."""
    return json.dumps(record.to_dict(), sort_keys=True)


def load(factory: Callable[[dict[str, Any]], T], raw: Any) -> T | None:
    """A record from its JSON text; None for a missing value."""
    return None if raw is None else factory(json.loads(text(raw)))


def records(factory: Callable[[dict[str, Any]], T], values: Iterable[Any]) -> list[T]:
    """The records of a multi-get reply, skipping missing values."""
    return [factory(json.loads(text(v))) for v in values if v is not None]


def starts(scored: list[tuple[Any, float]]) -> list[datetime]:
    """Times of a ZRANGE WITHSCORES reply scored by epoch seconds."""
    return [datetime.fromtimestamp(score, UTC) for _, score in scored]


def millis(ttl: timedelta) -> int:
    """A TTL in whole milliseconds, at least 1."""
    return max(1, int(ttl.total_seconds() * 1000))


def remaining(pttl: int) -> timedelta | None:
    """A PTTL reply as a duration; None for a missing key (-2) or one without expiry (-1)."""
    return timedelta(milliseconds=pttl) if pttl >= 0 else None
