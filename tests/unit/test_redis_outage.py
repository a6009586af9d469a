"""`bot.redis_outage`: the back-off of the long-running processes while Redis is away."""

from __future__ import annotations

import pytest
import redis

from bot.redis_outage import backoff, wait_for_redis
from tests.conftest import free_port


class _Stop(Exception):
    pass


def test_the_backoff_doubles_from_one_second_up_to_thirty() -> None:
    assert [backoff(n) for n in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_waiting_for_an_unreachable_redis_sleeps_longer_each_time_and_never_gives_up_by_itself() -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 6:
            raise _Stop

    # No PDM_ setting applies: the worker's client keeps redis-py's defaults, whose own retries make one
    # failed PING last ~4 s. What is asserted is `wait_for_redis`'s back-off between PINGs (recorded, not
    # slept), the same whatever the client; so this client fails each PING at once (nothing listens).
    nobody = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=None)
    with pytest.raises(_Stop):
        wait_for_redis(nobody, "worker", sleep=sleep)
    assert slept == [1, 2, 4, 8, 16, 30]
