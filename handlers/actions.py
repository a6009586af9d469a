"""Approve / Reject / Snooze buttons of a proposal: authorise, check the run is still proposed, enqueue."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.blocks import ACTION_APPROVE, ACTION_REJECT, ACTION_SNOOZE
from handlers.deps import Deps, authorise, refuse
from scheduler.errors import UnknownRun
from scheduler.records import RunStatus

log = logging.getLogger(__name__)

JOBS = {
    ACTION_APPROVE: "scheduler.jobs.approve",
    ACTION_REJECT: "scheduler.jobs.reject",
    ACTION_SNOOZE: "scheduler.jobs.snooze",
}
VERBS = {ACTION_APPROVE: "approve", ACTION_REJECT: "reject", ACTION_SNOOZE: "snooze"}
DOUBLE_CLICK_WINDOW = timedelta(seconds=60)
ALREADY_HANDLED = "This proposal was already handled; nothing was done."


def on_proposal_action(
    deps: Deps, body: dict[str, Any], ack: Callable[..., Any], respond: Callable[..., Any]
) -> None:
    """A proposal button was pressed."""
    ack()
    action = body["actions"][0]
    action_id, run_id = str(action["action_id"]), str(action.get("value", ""))
    user = str(body.get("user", {}).get("id", ""))
    verb = VERBS[action_id]
    try:
        run = deps.state.get_run(run_id)
    except UnknownRun:
        run = None
    refusal = authorise(deps, user)
    if refusal is not None:
        refuse(deps, user, f"{verb} {run_id}", run.environment if run else None, refusal)
        respond(text=refusal, response_type="ephemeral", replace_original=False)
        return
    if run is None or run.status != RunStatus.REQUESTED:
        respond(text=ALREADY_HANDLED, response_type="ephemeral", replace_original=False)
        return
    if not deps.state.claim(f"button:{run_id}:{action_id}:{user}", DOUBLE_CLICK_WINDOW):
        respond(text=ALREADY_HANDLED, response_type="ephemeral", replace_original=False)
        return
    deps.queue.enqueue(JOBS[action_id], run_id, user)
    respond(
        text=f":inbox_tray: {verb} of run `{run_id}` queued.",
        response_type="ephemeral",
        replace_original=False,
    )
