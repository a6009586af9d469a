"""The one approver check, used by the listeners (before enqueueing) and by every human job (again)."""

from __future__ import annotations

import logging
from datetime import datetime

from scheduler.errors import PdmError
from scheduler.policy.model import Approvers
from scheduler.ports import AuditPort, Directory
from scheduler.service.audit import audit

log = logging.getLogger(__name__)

NOT_AN_APPROVER = "Only approvers may do this (policy `approvers`: users and usergroups)."
CANNOT_CHECK = "Could not check your approver usergroups with Slack right now; try again in a minute."


def approver_refusal(approvers: Approvers, directory: Directory | None, user: str) -> str | None:
    """None when `user` is an approver (policy users, then usergroups), else why not (shown to them)."""
    if user in approvers.users:
        return None
    if directory is None:
        return NOT_AN_APPROVER
    for group in approvers.usergroups:
        try:
            if user in directory.members(group):
                return None
        except PdmError as exc:
            log.warning("approver check: %s", exc)
            return CANNOT_CHECK
    return NOT_AN_APPROVER


def refused(
    store: AuditPort,
    approvers: Approvers,
    directory: Directory | None,
    now: datetime,
    user: str,
    request: str,
    env: str,
) -> str | None:
    """The refusal of `request` by `user` (audited `refused`), or None when they may."""
    refusal = approver_refusal(approvers, directory, user)
    if refusal is not None:
        audit(store, now, "refused", env, refusal, actor=user, request=request)
    return refusal
