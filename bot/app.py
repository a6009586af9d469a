"""The composition root of the web process: the Flask app with Bolt at `/slack/events`.

`create_app` takes every collaborator as a parameter (tests pass their own); `app_from_settings`
builds them from `PDM_*` settings for `pdm-bot serve`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from flask import Flask, Response, jsonify, request
from rq import Queue
from slack_bolt import App
from slack_bolt.adapter.flask.handler import to_flask_response
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from werkzeug.exceptions import InternalServerError

import handlers
from bot import slack_intake
from bot.metrics import exposition
from bot.slack_client import UsergroupDirectory, make_web_client, signature_valid
from handlers import actions, webhooks
from handlers.deps import UNAVAILABLE, Deps
from handlers.queries import StateReader
from scheduler.adapters.redis_connection import connect
from scheduler.adapters.redis_store import RedisStore
from scheduler.adapters.redis_telemetry import install_telemetry
from scheduler.jobnames import QUEUE_NAME
from scheduler.policy.model import Policy, load_policy
from scheduler.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
BOLT_SHAPE_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError)
INTERNAL = "pdm-bot failed on this request; its logs have the details"


def bolt_app(settings: Settings, client: Any) -> App:
    """A Bolt app verifying Slack signatures, with a static bot token (no `auth.test` call)."""
    token = settings.slack_bot_token.get_secret_value()

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    return App(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=client,
        authorize=authorize,
        process_before_response=True,
        logger=logging.getLogger("bot.bolt"),
    )


def on_listener_error(error: Exception) -> BoltResponse:
    """A Slack listener that raised: 503 while Redis is unavailable (Slack redelivers events), else a
    500 that says so; never an empty body."""
    if isinstance(error, redis.RedisError):
        log.warning("slack: state store unavailable (%s)", type(error).__name__)
        return BoltResponse(status=503, body={"error": UNAVAILABLE})
    log.error("slack: listener failed: %s", type(error).__name__, exc_info=error)
    return BoltResponse(status=500, body={"error": INTERNAL})


def create_app(settings: Settings, *, deps: Deps, client: Any) -> Flask:
    """The web app: `/slack/events`, `/webhooks/gitlab`, `/healthz` (Redis too), `/livez`, `/metrics`."""
    bolt = bolt_app(settings, client)
    handlers.register(bolt, deps)
    bolt.error(on_listener_error)

    flask = Flask("pdm-bot")
    flask.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    flask.register_blueprint(webhooks.blueprint(deps))

    signing_secret = settings.slack_signing_secret.get_secret_value()

    @flask.post("/slack/events")
    def slack_events() -> Response | tuple[Response, int]:
        raw = request.get_data(cache=True)  # bytes as sent: nothing is parsed before the signature
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        if not signature_valid(signing_secret, raw, timestamp, request.headers.get("X-Slack-Signature")):
            return jsonify({"error": "invalid request"}), 401
        parsed = slack_intake.bolt_request(raw, request.query_string, request.headers)
        if isinstance(parsed, slack_intake.Malformed):
            if parsed.interaction:
                actions.ignore_interaction(deps, parsed.reason)
            return jsonify({"error": parsed.reason}), 400
        try:
            return to_flask_response(bolt.dispatch(parsed))
        except BOLT_SHAPE_ERRORS as exc:  # raised by Bolt's own error path on a body it cannot read
            log.warning("slack: request Bolt could not read: %s", type(exc).__name__, exc_info=exc)
            return jsonify({"error": f"not a Slack request pdm-bot understands ({type(exc).__name__})"}), 400

    @flask.errorhandler(redis.RedisError)
    def state_store_unavailable(error: redis.RedisError) -> tuple[Response, int]:
        log.warning("%s: state store unavailable (%s)", request.path, type(error).__name__)
        return jsonify({"error": UNAVAILABLE}), 503

    @flask.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError) -> tuple[Response, int]:
        return jsonify({"error": INTERNAL}), 500

    @flask.get("/livez")
    def livez() -> tuple[Response, int]:  # the chart's probes: a Redis outage must not unready or restart
        return jsonify({"status": "ok"}), 200  # the web pods, which then answer "state store unavailable"

    @flask.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            deps.state.ping()
        except Exception as exc:
            log.warning("healthz: Redis unreachable: %s", type(exc).__name__)
            return jsonify({"status": "unhealthy", "redis": "unreachable"}), 503
        return jsonify({"status": "ok", "redis": "ok"}), 200

    @flask.get("/metrics")
    def metrics() -> Response:
        try:
            deps.reader.export_gauges()
        except Exception as exc:
            log.warning("metrics: state gauges not refreshed: %s", type(exc).__name__)
        body, content_type = exposition(deps.state.telemetry(), deps.state.outbox())
        return Response(body, content_type=content_type)

    return flask


def deps_from(settings: Settings, policy: Policy, *, state: RedisStore, queue: Queue, directory: Any) -> Deps:
    """Listener dependencies from the policy and the adapters."""
    return Deps(
        state=state,
        queue=queue,
        environments=tuple(e.name for e in policy.environments),
        approvers=policy.approvers,
        directory=directory,
        reader=StateReader(state, policy, clock=lambda: datetime.now(UTC)),
        webhook_secret=settings.gitlab_webhook_secret.get_secret_value(),
        clock=lambda: datetime.now(UTC),
        channel=settings.slack_channel,
        deploy_message=policy.deploy_message,
    )


def app_from_settings(settings: Settings) -> Flask:
    """Everything from `PDM_*` settings and the policy file (raises PolicyError when it is invalid)."""
    policy = load_policy(Path(settings.policy_file).read_text(encoding="utf-8"))
    connection = connect(settings, timeout=settings.redis_web_timeout_seconds)
    state = RedisStore(connection)
    install_telemetry(state.telemetry())
    queue = Queue(QUEUE_NAME, connection=connection)
    client = make_web_client(settings)
    deps = deps_from(settings, policy, state=state, queue=queue, directory=UsergroupDirectory(client))
    return create_app(settings, deps=deps, client=client)
