"""The one place a process builds its Redis client: a plain URL, or the master found through Sentinel.

- `PDM_REDIS_SENTINELS` empty: `PDM_REDIS_URL` as is; `PDM_REDIS_PASSWORD` is used when the URL
  carries no password.
- `PDM_REDIS_SENTINELS=host:port,host:port`: the Sentinels are asked for the address of master
  `PDM_REDIS_SENTINEL_MASTER` on every (re)connection, so a failover is followed; the database number
  comes from the path of `PDM_REDIS_URL`, the password from the URL or `PDM_REDIS_PASSWORD`. The
  Sentinels themselves are reached without a password, each asked once per discovery (connect and read
  bounded by `SENTINEL_SOCKET_TIMEOUT`, no retry): the next Sentinel in the list is the retry, so a dead
  one listed first costs one refused connection, not redis-py's default back-off of about 4 s.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from scheduler.errors import InputError
from scheduler.settings import Settings

SENTINEL_SOCKET_TIMEOUT = 5.0


def sentinel_addresses(text: str) -> list[tuple[str, int]]:
    """`host:port,host:port` → addresses; raises InputError naming a malformed entry."""
    addresses: list[tuple[str, int]] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        host, sep, port = entry.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise InputError(f"PDM_REDIS_SENTINELS: '{entry}' is not host:port")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def _password(settings: Settings) -> str | None:
    from_url = urlsplit(settings.redis_url).password
    return unquote(from_url) if from_url else settings.redis_password.get_secret_value() or None


def _database(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    if not path:
        return 0
    if not path.isdigit():
        raise InputError(f"PDM_REDIS_URL: database '{path}' is not a number")
    return int(path)


def _bounded(timeout: float | None) -> dict[str, Any]:
    """Client options: none (redis-py's defaults), or connect and socket timeouts of `timeout` with no
    retry, so that one command costs at most `timeout` and is sent at most once."""
    if timeout is None:
        return {}
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0)}


def connect(settings: Settings, *, timeout: float | None = None) -> redis.Redis:
    """The Redis client of this process (see the module docstring). `timeout` bounds every command
    (`pdm-bot serve`: `PDM_REDIS_WEB_TIMEOUT_SECONDS`); the worker keeps none, it blocks on BLPOP."""
    addresses = sentinel_addresses(settings.redis_sentinels)
    bounded = _bounded(timeout)
    if not addresses:
        password = settings.redis_password.get_secret_value()
        if password and not urlsplit(settings.redis_url).password:
            return redis.Redis.from_url(settings.redis_url, password=password, **bounded)
        return redis.Redis.from_url(settings.redis_url, **bounded)
    sentinel_timeout = min(SENTINEL_SOCKET_TIMEOUT, timeout or SENTINEL_SOCKET_TIMEOUT)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        addresses,
        sentinel_kwargs={
            "socket_timeout": sentinel_timeout,
            "socket_connect_timeout": sentinel_timeout,
            "retry": Retry(NoBackoff(), 0),
        },
    )
    master: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        settings.redis_sentinel_master,
        db=_database(settings.redis_url),
        password=_password(settings),
        **bounded,
    )
    return master
