"""Approve / Reject / Snooze buttons of a proposal: authorise, check the run is still proposed, enqueue."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any, Literal

import redis
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.blocks import ACTION_APPROVE, ACTION_REJECT, ACTION_SNOOZE
from handlers.deps import UNAVAILABLE, Deps, check_approver
from scheduler.errors import UnknownRun
from scheduler.jobnames import JobName
from scheduler.records import RunStatus
from scheduler.service.audit import audit
from scheduler.validation import first_error

log = logging.getLogger(__name__)

ACTION_JOBS = {ACTION_APPROVE: JobName.APPROVE, ACTION_REJECT: JobName.REJECT, ACTION_SNOOZE: JobName.SNOOZE}
VERBS = {ACTION_APPROVE: "approve", ACTION_REJECT: "reject", ACTION_SNOOZE: "snooze"}
DOUBLE_CLICK_WINDOW = timedelta(seconds=60)
ALREADY_HANDLED = "This proposal was already handled; nothing was done."


def on_proposal_action(
    deps: Deps, body: dict[str, Any], ack: Callable[..., Any], respond: Callable[..., Any]
) -> None:
    """A proposal button was pressed (while Redis is unreachable or hangs: nothing changes, and the
    presser is told so at once)."""
    ack()
    answer = _answering(respond)
    try:
        _on_proposal_action(deps, body, answer)
    except redis.RedisError as exc:
        log.warning("button: state store unavailable (%s)", type(exc).__name__)
        answer(text=UNAVAILABLE, response_type="ephemeral", replace_original=False)


def _answering(respond: Callable[..., Any]) -> Callable[..., None]:
    """`respond` through the click's `response_url`; an unreachable one is logged, not a 500 (the click
    was acknowledged and its effect, if any, is already queued and audited)."""

    def answer(**message: Any) -> None:
        try:
            respond(**message)
        except OSError as exc:
            log.warning("button: response_url unreachable (%s); the answer is dropped", type(exc).__name__)

    return answer


def _on_proposal_action(deps: Deps, body: dict[str, Any], respond: Callable[..., Any]) -> None:
    action = body["actions"][0]
    action_id, run_id = str(action["action_id"]), str(action.get("value", ""))
    user = str(body.get("user", {}).get("id", ""))
    verb = VERBS[action_id]
    try:
        run = deps.state.get_run(run_id)
    except UnknownRun:
        run = None
    refusal = check_approver(deps, user, f"{verb} {run_id}", run.environment if run else None)
    if refusal is not None:
        respond(text=refusal, response_type="ephemeral", replace_original=False)
        return
    if run is None or run.status != RunStatus.REQUESTED:
        respond(text=ALREADY_HANDLED, response_type="ephemeral", replace_original=False)
        return
    if not deps.state.claim(f"button:{run_id}:{action_id}:{user}", DOUBLE_CLICK_WINDOW):
        respond(text=ALREADY_HANDLED, response_type="ephemeral", replace_original=False)
        return
    try:
        deps.queue.enqueue(ACTION_JOBS[action_id].value, run_id, user)
    except redis.RedisError:
        with suppress(redis.RedisError):  # the click may be tried again at once
            deps.state.unclaim(f"button:{run_id}:{action_id}:{user}")
        raise
    respond(
        text=f":inbox_tray: {verb} of run `{run_id}` queued.",
        response_type="ephemeral",
        replace_original=False,
    )


# --- shape of interactivity payloads (checked before Bolt sees them) ---------------------------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Identified(_Open):
    id: str = Field(min_length=1)


class _Action(_Open):
    action_id: str = Field(min_length=1)
    value: str = ""


class BlockActions(_Open):
    """The parts of a `block_actions` payload that pdm-bot and Bolt read, with the types Slack sends."""

    type: Literal["block_actions"]
    user: _Identified
    actions: list[_Action] = Field(min_length=1)
    response_url: str = Field(min_length=1)
    team: _Identified | None = None
    channel: _Identified | None = None
    enterprise: _Identified | None = None
    authorizations: list[_Open] | None = None
    container: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    view: dict[str, Any] | None = None
    is_enterprise_install: bool | None = None
    is_ext_shared_channel: bool | None = None


def interaction_problem(raw: str) -> str | None:
    """Why the `payload` field of an interactivity post is not a button click pdm-bot handles (None: fine)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return "payload is not JSON"
    if not isinstance(data, dict):
        return "payload is not a JSON object"
    return block_actions_problem(data)


def block_actions_problem(data: dict[str, Any]) -> str | None:
    """Why a decoded interaction is not a button click pdm-bot handles (None: fine)."""
    try:
        BlockActions.model_validate(data)
    except ValidationError as exc:
        return f"unsupported interaction payload: {first_error(exc, 'payload')}"
    return None


def ignore_interaction(deps: Deps, problem: str) -> None:
    """Audit a signed interaction payload that was not understood (it is answered 400, nothing runs)."""
    audit(deps.state, deps.clock(), "interaction_ignored", "", problem, actor="slack")
