"""What the listeners need, built once by `bot.app.create_app` (tests pass their own)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from scheduler.adapters.redis_store import RedisStore
from scheduler.errors import PdmError
from scheduler.ports import Directory
from scheduler.records import AuditEntry

if TYPE_CHECKING:
    from handlers.commands import Command

log = logging.getLogger(__name__)


class Reader(Protocol):
    """Answers the read-only subcommands from state and the pure domain, as blocks."""

    def answer(self, command: Command) -> list[dict[str, Any]]:
        """Blocks answering `command` (raises `PdmError` with a message for the user)."""

    def export_gauges(self) -> None:
        """Refresh the state gauges of `/metrics`."""


class JobQueue(Protocol):
    """The part of `rq.Queue` the listeners use: enqueue a job by dotted name."""

    def enqueue(self, f: Any, *args: Any, **kwargs: Any) -> Any:
        """Enqueue `f(*args, **kwargs)`."""


@dataclass(frozen=True)
class Approvers:
    """Who may run mutating subcommands and press buttons."""

    users: frozenset[str]
    usergroups: tuple[str, ...]


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


UNAVAILABLE = "RedisStore store unavailable, nothing was changed; try again in a minute."


def authorise(deps: Deps, user: str) -> str | None:
    """None when `user` is an approver, else the reason of the refusal (shown to the user)."""
    if user in deps.approvers.users:
        return None
    for group in deps.approvers.usergroups:
        try:
            if user in deps.directory.members(group):
                return None
        except PdmError as exc:
            log.warning("approver check: %s", exc)
            return "Could not check your approver usergroups with Slack right now; try again in a minute."
    return "Only approvers may do this (policy `approvers`: users and usergroups)."


def refuse(deps: Deps, user: str, request: str, environment: str | None, reason: str) -> None:
    """Write the refusal of `request` to the audit log."""
    deps.state.audit(
        AuditEntry(
            at=deps.clock(),
            actor=user,
            action="refused",
            environment=environment or "",
            reason=reason,
            details={"request": request},
        )
    )
