"""What every part of the Redis store is built on: a client (`r`), live or a snapshot's prefetched replies."""

from __future__ import annotations

from typing import Any


class StoreBase:
    """Holds the client; each concern of the store is a subclass adding its methods."""

    # redis-py's annotations fit neither str/bytes replies nor transaction return values: keep it Any.
    r: Any

    def __init__(self, client: Any) -> None:
        self.r = client
