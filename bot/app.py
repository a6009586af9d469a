"""The composition root of the web process: the Flask app with Bolt at `/slack/events`.

`create_app` takes every collaborator as a parameter (tests pass their own); `app_from_settings`
builds them from `PDM_*` settings for `pdm-bot serve`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, Response, jsonify, request
from rq import Queue
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult

import handlers
from bot.metrics import exposition
from bot.redis_connection import connect
from bot.settings import Settings
from bot.slack_client import UsergroupDirectory, make_web_client, signature_valid
from handlers import actions, webhooks
from handlers.deps import Approvers, Deps
from handlers.queries import StateReader
from scheduler.outbox import Outbox
from scheduler.policy.model import Policy, load_policy
from scheduler.state import State
from scheduler.telemetry import Telemetry, install_telemetry

log = logging.getLogger(__name__)

QUEUE_NAME = "pdm"
MAX_BODY_BYTES = 1024 * 1024


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


def create_app(settings: Settings, *, deps: Deps, client: Any) -> Flask:
    """The web app: `/slack/events`, `/webhooks/gitlab`, `/healthz`, `/metrics`."""
    bolt = bolt_app(settings, client)
    handlers.register(bolt, deps)
    slack = SlackRequestHandler(bolt)

    flask = Flask("pdm-bot")
    flask.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    flask.register_blueprint(webhooks.blueprint(deps))

    signing_secret = settings.slack_signing_secret.get_secret_value()

    @flask.post("/slack/events")
    def slack_events() -> Response | tuple[Response, int]:
        body = request.get_data(cache=True, as_text=True)
        if request.mimetype == "application/x-www-form-urlencoded":
            raw = parse_qs(body, keep_blank_values=True).get("payload")
            problem = actions.interaction_problem(raw[-1]) if raw else None
            if problem is not None:
                timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
                signature = request.headers.get("X-Slack-Signature", "")
                if not signature_valid(signing_secret, body, timestamp, signature):
                    return jsonify({"error": "invalid request"}), 401
                actions.ignore_interaction(deps, problem)
                return jsonify({"error": problem}), 400
        return slack.handle(request)

    @flask.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            deps.state.r.ping()
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
        body, content_type = exposition(Telemetry(deps.state.r), Outbox(deps.state.r))
        return Response(body, content_type=content_type)

    return flask


def deps_from(settings: Settings, policy: Policy, *, state: State, queue: Queue, directory: Any) -> Deps:
    """Listener dependencies from the policy and the adapters."""
    return Deps(
        state=state,
        queue=queue,
        environments=tuple(e.name for e in policy.environments),
        approvers=Approvers(
            users=frozenset(policy.approvers.users), usergroups=tuple(policy.approvers.usergroups)
        ),
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
    connection = connect(settings)
    install_telemetry(Telemetry(connection))
    state = State(connection)
    queue = Queue(QUEUE_NAME, connection=connection)
    client = make_web_client(settings)
    deps = deps_from(settings, policy, state=state, queue=queue, directory=UsergroupDirectory(client))
    return create_app(settings, deps=deps, client=client)
