"""The one audit writer: every entry goes to the store's audit log and is logged as one event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from scheduler.lifecycle import BOT_ACTOR
from scheduler.ports import AuditPort
from scheduler.records import AuditEntry

events = structlog.get_logger("scheduler.audit")


def audit(
    store: AuditPort,
    at: datetime,
    action: str,
    env: str,
    reason: str,
    actor: str = BOT_ACTOR,
    **details: Any,
) -> None:
    """Append one audit entry (details redacted by the store) and log it as one event."""
    store.audit(
        AuditEntry(at=at, actor=actor, action=action, environment=env, reason=reason, details=details)
    )
    events.info(action, environment=env, reason=reason, actor=actor, **details)
