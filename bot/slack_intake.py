"""What `/slack/events` does with a request once its Slack signature is verified: decode and parse the
body the way Bolt will, and refuse with a reason (400) what Bolt or the listeners cannot take."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_normalized_headers, extract_content_type

from handlers import actions
from scheduler.validation import first_error


@dataclass(frozen=True)
class Malformed:
    """A signed request pdm-bot cannot handle; `interaction` marks a button payload (audited)."""

    reason: str
    interaction: bool = False


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Event(_Open):
    """The fields of an Events API `event` that Bolt's middleware and pdm-bot's listener read."""

    type: str = Field(min_length=1)
    subtype: str | None = None
    user: str | None = None
    bot_id: str | None = None
    channel: str | None = None
    channel_type: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    text: str | None = None


class RequestEnvelope(_Open):
    """The top level of a request body (a JSON event delivery or a form) as far as it is read before a
    listener runs: when present, these fields have the types Slack sends."""

    type: str | None = None
    event: Event = None  # type: ignore[assignment]  # absent is fine, `null` is not (Bolt reads it as a dict)
    authorizations: list[_Open] | None = None


def _shape_problem(data: dict[str, Any]) -> str | None:
    try:
        RequestEnvelope.model_validate(data)
    except ValidationError as exc:
        return f"unsupported Slack request: {first_error(exc, 'body')}"
    return None


def _json_problem(text: str) -> Malformed | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return Malformed("body is not JSON")
    if not isinstance(data, dict):
        return Malformed("body is not a JSON object")
    if data.get("type") == "block_actions":  # Bolt takes a JSON body for an interaction as well
        reason = actions.block_actions_problem(data)
        return Malformed(reason, interaction=True) if reason else None
    reason = _shape_problem(data)
    return Malformed(reason) if reason else None


def _problem(text: str, content_type: str | None) -> Malformed | None:
    """Bolt's own choice (`slack_bolt.request.internals.parse_body`): JSON when the content type says
    so or the body starts with `{`, else a form whose `payload` field, when present, is JSON."""
    if content_type == "application/json" or text.startswith("{"):
        return _json_problem(text)
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        reason = actions.interaction_problem(payload) if payload is not None else None
        return Malformed(reason, interaction=True) if reason else None
    reason = _shape_problem(dict(parse_qsl(text, keep_blank_values=True)))
    return Malformed(reason) if reason else None


def bolt_request(raw: bytes, query: bytes, headers: Any) -> BoltRequest | Malformed:
    """The Bolt request of a signed body, or why it is malformed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Malformed("body is not UTF-8")
    problem = _problem(text, extract_content_type(build_normalized_headers(headers)))
    if problem is not None:
        return problem
    try:
        return BoltRequest(body=text, query=query.decode("latin-1"), headers=headers)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        return Malformed(f"not a Slack request pdm-bot understands ({type(exc).__name__} in its fields)")
