"""Riding out a Redis outage in the long-running processes (`pdm-bot worker`, `pdm-bot cron`).

`wait_for_redis` blocks until Redis answers, retrying with back-off (1 s, doubling, at most 30 s) and
logging each failed attempt; it raises `PdmError` (exit code 2) only for what waiting cannot fix: a
password Redis refuses or a command it rejects. SIGTERM / SIGINT while waiting end the process at once
(nothing is running then).
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

import redis

from scheduler.errors import PdmError

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 30.0


def backoff(attempt: int) -> float:
    """Seconds to wait before the `attempt`-th retry (0-based): 1, 2, 4, … capped at 30."""
    return float(min(MAX_DELAY, FIRST_DELAY * 2 ** min(attempt, 16)))


def _exit_now(signum: int, frame: FrameType | None) -> None:
    log.info("stopping on signal %s while waiting for Redis", signum)
    sys.exit(0)


def wait_for_redis(
    ping: Callable[[], object], process: str, *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Return once `ping` (the process's Redis client's PING) answers; raise PdmError when Redis refuses
    this process's credentials."""
    previous = {s: signal.signal(s, _exit_now) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        attempt = 0
        while True:
            try:
                ping()
            except (redis.AuthenticationError, redis.ResponseError) as exc:
                raise PdmError(f"Redis refused {process}: {exc}") from None
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                delay = backoff(attempt)
                log.warning("%s: Redis unavailable (%s); retrying in %.0f s", process, exc, delay)
                sleep(delay)
                attempt += 1
                continue
            if attempt:
                log.info("%s: Redis answers again after %d attempts", process, attempt + 1)
            return
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
