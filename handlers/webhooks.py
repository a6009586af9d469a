"""GitLab Deployment Hook: token check, payload validation, dedup, then one job per deployment status."""

from __future__ import annotations

import hmac
import logging
import re
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any, Literal

import redis
from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.metrics import WEBHOOKS
from handlers.deps import Deps
from scheduler.gitlab_model import FULL_SHA_IN_URL
from scheduler.jobnames import JobName
from scheduler.records import DeploymentStatus
from scheduler.validation import first_error

log = logging.getLogger(__name__)

WEBHOOK_DEDUP_TTL = timedelta(days=7)
_OFFSET_RE = re.compile(r"\s+([+-]\d{2}:?\d{2})$")
WEBHOOK_UNAVAILABLE = "state store unavailable, nothing was queued; redeliver"
TOO_DEEP = object()  # marker: the body was JSON nested deeper than the decoder allows


def parse_gitlab_time(text: str) -> datetime:
    """GitLab hook times: `2026-01-05 02:10:00 +0100`, `2026-01-05 01:10:00 UTC` or ISO 8601 (aware)."""
    cleaned = text.strip()
    if cleaned.endswith(" UTC"):
        cleaned = cleaned[: -len(" UTC")] + "+00:00"
    cleaned = _OFFSET_RE.sub(r"\1", cleaned)
    parsed = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("status_changed_at has no time zone")
    return parsed


class DeploymentHook(BaseModel):
    """The fields of a Deployment Hook that pdm-bot uses (others are ignored)."""

    model_config = ConfigDict(extra="ignore")

    object_kind: Literal["deployment"]
    status: DeploymentStatus
    deployment_id: int = Field(gt=0)
    environment: str = Field(min_length=1)
    short_sha: str = Field(pattern=r"^[0-9a-f]{7,40}$")
    commit_url: str = Field(min_length=1)
    status_changed_at: datetime

    @field_validator("status_changed_at", mode="before")
    @classmethod
    def _gitlab_time(cls, value: Any) -> Any:
        return parse_gitlab_time(value) if isinstance(value, str) else value

    @property
    def sha(self) -> str:
        """The full SHA when `commit_url` carries it, else the short one (the job resolves it)."""
        found = FULL_SHA_IN_URL.search(self.commit_url)
        return found.group(1) if found else self.short_sha


def _answer(status: int, outcome: str, **extra: Any) -> tuple[Response, int]:
    WEBHOOKS.labels(outcome=outcome).inc()
    return jsonify({"result": outcome, **extra}), status


def handle_deployment(deps: Deps, token: str | None, payload: Any) -> tuple[Response, int]:
    """Check, validate, dedup and enqueue one delivery."""
    secret = deps.webhook_secret
    if not secret or token is None or not hmac.compare_digest(token.encode(), secret.encode()):
        return _answer(401, "unauthorized")
    if payload is TOO_DEEP:
        return _answer(400, "malformed", reason="body nests too deeply to be a deployment event")
    if not isinstance(payload, dict):
        return _answer(400, "malformed", reason="body is not a JSON object")
    try:
        hook = DeploymentHook.model_validate(payload)
    except ValidationError as exc:
        return _answer(400, "malformed", reason=first_error(exc, "body"))
    if hook.environment not in deps.environments:
        return _answer(200, "ignored", reason=f"environment {hook.environment} is not in the policy")
    at = hook.status_changed_at.isoformat()
    args: tuple[str | int, ...]
    if hook.status == DeploymentStatus.SUCCESS:
        job, args = JobName.ON_DEPLOY, (hook.environment, hook.deployment_id, hook.sha, at, hook.commit_url)
    elif hook.status == DeploymentStatus.RUNNING:
        job, args = (
            JobName.DEPLOY_STARTED,
            (hook.environment, hook.deployment_id, hook.sha, at, hook.commit_url),
        )
    elif hook.status in (DeploymentStatus.FAILED, DeploymentStatus.CANCELED):
        job, args = JobName.DEPLOY_ENDED, (hook.environment, hook.deployment_id, str(hook.status), at)
    else:
        return _answer(200, "ignored", reason=f"status {hook.status} needs no action")
    key = f"webhook:deployment:{hook.deployment_id}:{hook.status}"
    deps.state.ping()  # a hung Redis fails here, before a claim that could land after a 503
    if not deps.state.claim(key, WEBHOOK_DEDUP_TTL):
        return _answer(200, "duplicate")
    try:
        deps.queue.enqueue(job.value, *args)
    except redis.RedisError:
        with suppress(redis.RedisError):  # else the redelivery would be taken for a duplicate
            deps.state.unclaim(key)
        raise
    log.info("deployment %s %s on %s queued", hook.deployment_id, hook.status, hook.environment)
    return _answer(200, "queued", job=job.short)


def blueprint(deps: Deps) -> Blueprint:
    """`POST /webhooks/gitlab`."""
    bp = Blueprint("gitlab_webhooks", __name__)

    @bp.post("/webhooks/gitlab")
    def gitlab_webhook() -> tuple[Response, int]:
        try:
            payload = request.get_json(silent=True)
        except RecursionError:  # json gives up on very deep nesting; the token is still checked first
            payload = TOO_DEEP
        try:
            return handle_deployment(deps, request.headers.get("X-Gitlab-Token"), payload)
        except redis.RedisError as exc:  # GitLab redelivers a delivery that was not answered 2xx
            log.warning("webhook: state store unavailable (%s)", type(exc).__name__)
            return _answer(503, "unavailable", reason=WEBHOOK_UNAVAILABLE)

    return bp
