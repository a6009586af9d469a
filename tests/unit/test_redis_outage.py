"""`bot.redis_outage`: the back-off of the long-running processes while Redis is away."""

from __future__ import annotations

import pytest
import redis

from bot.redis_outage import backoff, wait_for_redis


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

    def unreachable() -> object:  # what the worker's client raises while nothing listens
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with pytest.raises(_Stop):
        wait_for_redis(unreachable, "worker", sleep=sleep)
    assert slept == [1, 2, 4, 8, 16, 30]
