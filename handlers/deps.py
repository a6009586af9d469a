"""What the listeners need, built once by `bot.app.create_app` (tests pass their own)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from scheduler.adapters.redis_store import RedisStore
from scheduler.policy.model import Approvers
from scheduler.ports import Directory, JobQueue
from scheduler.service import authorisation

if TYPE_CHECKING:
    from handlers.commands import Command

log = logging.getLogger(__name__)


class Reader(Protocol):
    """Answers the read-only subcommands from state and the pure domain, as blocks."""

    def answer(self, command: Command) -> list[dict[str, Any]]:
        """Blocks answering `command` (raises `PdmError` with a message for the user)."""

    def export_gauges(self) -> None:
        """Refresh the state gauges of `/metrics`."""


@dataclass(frozen=True)
class Deps:
    """Everything a listener touches."""

    state: RedisStore
    queue: JobQueue
    environments: tuple[str, ...]
    approvers: Approvers
    directory: Directory
    reader: Reader
    webhook_secret: str
    clock: Callable[[], datetime]
    channel: str = ""
    deploy_message: re.Pattern[str] | None = None


UNAVAILABLE = "State store unavailable, nothing was changed; try again in a minute."


def check_approver(deps: Deps, user: str, request: str, environment: str | None) -> str | None:
    """Why `user` may not do `request` (audited), or None when they are an approver (the one approver
    check: `scheduler.service.authorisation`)."""
    return authorisation.refused(
        deps.state, deps.approvers, deps.directory, deps.clock(), user, request, environment or ""
    )
