"""Events API `message` events: a deploy-notifier's announcement in the release channel, matched by the
policy's `deploy_message_pattern`, counts as a successful deployment (the same `on_deploy` job as the
GitLab webhook), once per environment and package."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.deps import Deps
from scheduler.gitlab_model import SHA
from scheduler.jobnames import JobName

log = logging.getLogger(__name__)

MESSAGE_DEDUP_TTL = timedelta(days=1)
ANNOUNCEMENTS = (None, "bot_message")  # plain messages and legacy bot posts; not edits, joins, …


def message_text(event: dict[str, Any]) -> str:
    """The text of a message and of its legacy attachments, where notifier bots often put it."""
    parts = [str(event.get("text") or "")]
    for attachment in event.get("attachments") or []:
        if isinstance(attachment, dict):
            parts += [str(attachment.get(k) or "") for k in ("pretext", "title", "text", "fallback")]
    return "\n".join(p for p in parts if p)


def _deployment_id(found: re.Match[str], ts: str) -> int:
    given = found.groupdict().get("deployment_id")
    if given and given.isdigit():
        return int(given)
    return int(ts.replace(".", ""))  # the message's own id, e.g. 1767225600.000123 → 1767225600000123


def on_message(deps: Deps, event: dict[str, Any]) -> str:
    """Enqueue `on_deploy` for a matching announcement; returns the outcome (logged, used by tests)."""
    pattern = deps.deploy_message
    if pattern is None:
        return "disabled"
    ts = str(event.get("ts") or "")
    if (
        event.get("channel") != deps.channel
        or event.get("subtype") not in ANNOUNCEMENTS
        or event.get("thread_ts") not in (None, ts)
        or not re.fullmatch(r"\d+\.\d+", ts)
    ):
        return "ignored"
    found = pattern.search(message_text(event))
    if found is None:
        return "no_match"
    known = {e.lower(): e for e in deps.environments}
    env, sha = known.get(found["environment"].lower()), found["sha"].lower()
    if env is None or not SHA.fullmatch(sha):
        log.warning("deploy message %s ignored: environment or SHA not usable", ts)
        return "ignored"
    key = f"deploy-message:{env}:{sha[:7]}"
    if not deps.state.claim(key, MESSAGE_DEDUP_TTL):
        return "duplicate"
    at = datetime.fromtimestamp(float(ts), UTC).isoformat()
    try:
        deps.queue.enqueue(JobName.ON_DEPLOY.value, env, _deployment_id(found, ts), sha, at, "")
    except Exception:
        deps.state.unclaim(key)
        raise
    log.info("deploy message %s: %s deployed %s, on_deploy queued", ts, env, sha[:8])
    return "queued"
