"""Security: signatures and replays, webhook tokens, approver checks on every mutation (audited),
the two-person rule, no secret in logs across a full flow, unsafe policy files rejected."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import structlog
from click.testing import CliRunner
from freezegun import freeze_time

from bot.app import create_app, deps_from
from bot.blocks import ACTION_APPROVE, ACTION_REJECT, ACTION_SNOOZE
from bot.cli import cli
from bot.logging import configure_logging
from bot.slack_client import UsergroupDirectory, make_web_client
from scheduler import bootstrap, jobs
from scheduler.adapters.redis_store import RedisStore
from scheduler.policy.model import InvalidPolicy, load_policy
from scheduler.records import Run, RunStatus
from scheduler.service.context import WorkerContext
from scheduler.settings import Settings
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack
from tests.support.web import APPROVER, SIGNING_SECRET, Served, http, serve_app, sign
from tests.support.worker import (
    DEPLOYED,
    INDEX,
    POLICY,
    SATURDAY,
    TOKEN,
    gitlab_adapter,
    make_context,
    publish,
    run_due,
    slack_outbox,
    work,
)

V1 = "20260105101500"
COMMIT_URL = f"https://gitlab.example.com/app/-/commit/{DEPLOYED}"


@pytest.fixture
def app(redis_url: str, slack: FakeSlack) -> Iterator[Served]:
    with serve_app(redis_url, slack.api_url) as served:
        yield served


def proposed_run(state: RedisStore) -> Run:
    run = Run(
        id="gstg-9",
        environment="gstg",
        migrations=[V1],
        up_to_version=V1,
        target_sha=DEPLOYED,
        requested_by="pdm-bot",
        requested_at=SATURDAY,
    )
    state.create_run(run)
    return run


# Signatures ----------------------------------------------------------------------------------------


def test_a_replayed_slash_command_older_than_five_minutes_is_401_and_runs_nothing(app: Served) -> None:
    body = urlencode({"command": "/pdm", "text": "pause gstg", "user_id": APPROVER, "team_id": "T1"})
    replay = http(app.url + "/slack/events", body.encode(), sign(body, timestamp=int(time.time()) - 301))
    assert replay.status == 401
    assert app.jobs() == [] and app.state.audit_log(limit=5) == []


def test_a_replayed_or_forged_button_click_is_401_even_with_a_malformed_payload(app: Served) -> None:
    run = proposed_run(app.state)
    payload = {
        "type": "block_actions",
        "user": {"id": APPROVER},
        "response_url": "http://127.0.0.1:9/r",
        "actions": [{"action_id": ACTION_APPROVE, "value": run.id}],
    }
    for raw in (json.dumps(payload), "not json", "[1]"):
        body = urlencode({"payload": raw})
        old = http(app.url + "/slack/events", body.encode(), sign(body, timestamp=int(time.time()) - 600))
        forged = http(app.url + "/slack/events", body.encode(), sign(body, secret="not-the-secret"))
        assert (old.status, forged.status) == (401, 401)
    assert app.jobs() == [] and app.state.audit_log(limit=5) == []


def test_a_body_changed_after_signing_is_401(app: Served) -> None:
    signed = urlencode({"command": "/pdm", "text": "status", "user_id": APPROVER})
    tampered = urlencode({"command": "/pdm", "text": "pause gstg", "user_id": APPROVER})
    assert http(app.url + "/slack/events", tampered.encode(), sign(signed)).status == 401
    assert app.jobs() == []


@pytest.mark.parametrize("token", [None, "", "wrong", "test-webhook-secret ", "TEST-WEBHOOK-SECRET"])
def test_a_webhook_with_a_wrong_token_is_401_leaves_no_claim_and_the_real_delivery_still_counts(
    app: Served, token: str | None
) -> None:
    delivery = {
        "object_kind": "deployment",
        "status": "success",
        "deployment_id": 5,
        "environment": "gstg",
        "short_sha": DEPLOYED[:8],
        "commit_url": COMMIT_URL,
        "status_changed_at": "2026-01-10T03:00:00Z",
    }
    assert app.webhook(delivery, token=token).status == 401
    assert app.jobs() == []
    assert app.webhook(delivery).json()["result"] == "queued"


# Approvers -----------------------------------------------------------------------------------------

MUTATING = [
    "run gstg",
    "pause gstg drill",
    "pause all",
    "resume gstg",
    "hold 20260105101500 why",
    "unhold 20260105101500",
    "baseline gstg " + "a" * 40,
]


@pytest.mark.parametrize("text", MUTATING)
def test_every_mutating_command_by_a_non_approver_is_refused_audited_and_not_enqueued(
    app: Served, text: str
) -> None:
    reply = app.slash(text, user="U0INTRUDER")
    assert reply.status == 200 and "approver" in reply.json()["text"].lower()
    assert app.jobs() == []
    (entry,) = app.state.audit_log(limit=5)
    assert entry.action == "refused" and entry.actor == "U0INTRUDER" and entry.reason


@pytest.mark.parametrize("action", [ACTION_APPROVE, ACTION_REJECT, ACTION_SNOOZE])
def test_every_button_pressed_by_a_non_approver_is_refused_audited_and_not_enqueued(
    app: Served, slack: FakeSlack, action: str
) -> None:
    run = proposed_run(app.state)
    assert app.click(action, run.id, "U0INTRUDER", slack.response_url("b")).status == 200
    assert app.jobs() == []
    (entry,) = app.state.audit_log(limit=5)
    assert entry.action == "refused" and entry.actor == "U0INTRUDER"
    assert "approver" in str(slack.named("response_url")[-1].args.get("text", "")).lower()


@freeze_time(SATURDAY, tick=True)
@pytest.mark.parametrize(
    "call",
    [
        lambda: jobs.approve("gstg-1", "U0INTRUDER"),
        lambda: jobs.reject("gstg-1", "U0INTRUDER"),
        lambda: jobs.snooze("gstg-1", "U0INTRUDER"),
        lambda: jobs.request_run("gstg", None, "U0INTRUDER", None),
        lambda: jobs.pause("gstg", "U0INTRUDER", "x"),
        lambda: jobs.resume(None, "U0INTRUDER"),
        lambda: jobs.hold(V1, "U0INTRUDER", "x"),
        lambda: jobs.unhold(V1, "U0INTRUDER"),
        lambda: jobs.set_baseline("gstg", "a" * 40, "U0INTRUDER"),
    ],
    ids=["approve", "reject", "snooze", "request_run", "pause", "resume", "hold", "unhold", "baseline"],
)
def test_jobs_recheck_the_approver_so_a_forged_job_changes_nothing_and_is_audited(
    ctx: WorkerContext, gitlab: FakeGitLabApi, call: object
) -> None:
    publish(gitlab, {V1: INDEX})
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], SATURDAY.isoformat(), COMMIT_URL)
    work(ctx)

    def snapshot() -> tuple[object, ...]:
        s = ctx.state
        return (
            s.get_run("gstg-1"),
            s.holds(),
            s.effective_pause("gstg"),
            s.baseline("gstg"),
            len(s.runs("gstg")),
        )

    before = snapshot()
    assert callable(call)
    call()
    assert snapshot() == before
    assert gitlab.calls("create_pipeline") == []
    latest = ctx.state.audit_log(limit=1)[0]
    assert latest.action == "refused" and latest.actor == "U0INTRUDER"


TWO_PERSON = POLICY + "two_person_natures: [index_and_constraint]\n"


@freeze_time(SATURDAY, tick=True)
def test_the_two_person_rule_needs_two_different_approvers_and_not_the_requester(
    redis_url: str, gitlab: FakeGitLabApi
) -> None:
    ctx = make_context(redis_url, gitlab.url)
    ctx.policy = load_policy(TWO_PERSON)
    bootstrap.install(ctx)
    try:
        publish(gitlab, {V1: INDEX})
        ctx.queue.enqueue(
            "scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], SATURDAY.isoformat(), COMMIT_URL
        )
        work(ctx)
        (run,) = ctx.state.runs("gstg")
        jobs.approve(run.id, "U1")
        jobs.approve(run.id, "U1")  # the same person twice is still one approval
        assert ctx.state.get_run(run.id).status is RunStatus.REQUESTED
        assert gitlab.calls("create_pipeline") == []
        jobs.approve(run.id, "U2")
        approved = ctx.state.get_run(run.id)
        assert approved.status is RunStatus.RUNNING and sorted(approved.approved_by) == ["U1", "U2"]
        assert len(gitlab.calls("create_pipeline")) == 1
    finally:
        bootstrap.install(None)


# Secrets -------------------------------------------------------------------------------------------

SECRETS = {
    "slack_bot_token": "xoxb-1111-secret-bot-token",
    "slack_signing_secret": "signing-s3cret-value-42",
    "gitlab_token": "glpat-s3cretGitLabToken",
    "gitlab_webhook_secret": "hook-s3cret-value-77",
}


@freeze_time(SATURDAY, tick=True)
def test_no_secret_or_authorization_header_is_logged_across_a_full_flow_at_debug_level(
    redis_url: str, gitlab: FakeGitLabApi, slack: FakeSlack
) -> None:
    gitlab.token = SECRETS["gitlab_token"]
    settings = Settings(
        redis_url=redis_url,
        slack_api_url=slack.api_url,
        slack_channel="C0RELEASE",
        gitlab_url=gitlab.url,
        log_level="DEBUG",
        **SECRETS,
    )  # type: ignore[arg-type]
    stream = io.StringIO()
    configure_logging(settings, stream=stream)
    root = logging.getLogger()
    ctx = make_context(redis_url, gitlab.url)
    ctx.gitlab = gitlab_adapter(gitlab.url, SECRETS["gitlab_token"])
    slack_outbox(ctx, settings)
    bootstrap.install(ctx)
    try:
        from werkzeug.test import Client

        deps = deps_from(
            settings,
            ctx.policy,
            state=ctx.state,
            queue=ctx.queue,
            directory=UsergroupDirectory(make_web_client(settings)),
        )
        client = Client(create_app(settings, deps=deps, client=make_web_client(settings)))
        publish(gitlab, {V1: INDEX})
        hook = {
            "object_kind": "deployment",
            "status": "success",
            "deployment_id": 41,
            "environment": "gstg",
            "short_sha": DEPLOYED[:8],
            "commit_url": COMMIT_URL,
            "status_changed_at": "2026-01-10T03:00:00Z",
        }
        bad = client.post("/webhooks/gitlab", json=hook, headers={"X-Gitlab-Token": "guess"})
        good = client.post(
            "/webhooks/gitlab", json=hook, headers={"X-Gitlab-Token": SECRETS["gitlab_webhook_secret"]}
        )
        assert (bad.status_code, good.status_code) == (401, 200)
        work(ctx)
        (run,) = ctx.state.runs("gstg")
        body = urlencode(
            {
                "payload": json.dumps(
                    {
                        "type": "block_actions",
                        "user": {"id": "U1"},
                        "response_url": slack.response_url("r"),
                        "actions": [{"action_id": ACTION_APPROVE, "value": run.id}],
                    }
                )
            }
        )
        headers = sign(body, secret=SECRETS["slack_signing_secret"])
        assert client.post("/slack/events", data=body, headers=headers).status_code == 200
        work(ctx)
        gitlab.fail_next(401)  # an error path too: its message must not echo credentials
        jobs.poll(run.id)
        (pipeline_id,) = gitlab.pipelines
        gitlab.pipelines[pipeline_id]["status"] = "success"
        run_due(ctx, "poll")
        work(ctx)
        assert ctx.state.get_run(run.id).status.is_terminal
        assert len(slack.delivered()) >= 4  # diff, proposal, started, failed: Slack calls were logged too
    finally:
        bootstrap.install(None)
        for handler in [h for h in root.handlers if h.get_name() == "pdm-bot-json"]:
            root.removeHandler(handler)
        root.setLevel(logging.WARNING)
        structlog.reset_defaults()
    logged = stream.getvalue()
    assert len(logged.splitlines()) > 10  # the flow really logged, at DEBUG
    audit = json.dumps([e.details for e in ctx.state.audit_log(limit=500)]) + " ".join(
        e.reason for e in ctx.state.audit_log(limit=500)
    )
    for text in (logged, audit):
        for secret in SECRETS.values():
            assert secret not in text
        assert "Bearer xoxb" not in text and "PRIVATE-TOKEN': 'glpat" not in text


# Policy files --------------------------------------------------------------------------------------

BASE = """
environments: [{name: gstg}]
windows: [{name: weekend, kind: allow, schedule: "0 0 * * 6", duration: 48h}]
"""


@pytest.mark.parametrize(
    "text, error",
    [
        (BASE + "surprise: 1\n", "surprise: unknown key"),
        (BASE.replace("{name: gstg}", "{name: gstg, colour: red}"), "environments[0].colour: unknown key"),
        (BASE.replace("48h", "-48h"), "windows[0].duration: cannot parse duration"),
        (BASE.replace("48h", "0m"), "windows[0].duration: must be positive"),
        (BASE.replace("48h", "99999999999999w"), "longer than 366 days"),
        (BASE.replace("48h", "400d"), "longer than 366 days"),
        (
            "environments: [{name: gstg}]\n"
            "windows: [{name: f, kind: deny, schedule: '0 0 * * *', duration: 0}]\n",
            "windows[0].duration: must be positive",
        ),
        ("environments: [{name: gstg, min_soak: 1000000d}]\n", "environments[0].min_soak"),
        ("environments: [{name: gstg, variables: {PDM_TARGET_SHA: x}}]\n", "PDM_TARGET_SHA"),
        ("environments: [{name: gstg, variables: {pdm_run_id: x}}]\n", "pdm_run_id"),
        (
            "environments: [{name: gstg}]\nguards: {max_db_load: {prometheus_url: 'file:///etc/passwd', "
            "query: up, threshold: 1}}\n",
            "prometheus_url: must be an http",
        ),
        (
            "environments: [{name: gstg}]\nguards: {max_db_load: {prometheus_url: 'prometheus:9090', "
            "query: up, threshold: 1}}\n",
            "prometheus_url: must be an http",
        ),
        ("environments: [{name: gstg}]\nguards: {deploy_duration: 9999999d}\n", "guards.deploy_duration"),
        ("environments: [{name: gstg}]\nproposals: {lead_time: 500d}\n", "proposals.lead_time"),
    ],
)
def test_unsafe_policy_files_are_rejected_with_the_key_path(text: str, error: str) -> None:
    with pytest.raises(InvalidPolicy) as caught:
        load_policy(text)
    assert error in str(caught.value)


def test_an_in_cluster_http_prometheus_and_safe_variables_are_accepted() -> None:
    policy = load_policy(
        "environments: [{name: gprd, variables: {POSTDEPLOY_PIPELINE: 'true'}}]\n"
        "guards: {max_db_load: {prometheus_url: 'http://prometheus.monitoring:9090', query: up,"
        " threshold: 1}}\n"
    )
    assert policy.environment("gprd").variables == {"POSTDEPLOY_PIPELINE": "true"}


def test_check_config_reports_an_unsafe_policy_in_one_line_with_exit_2(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    path = tmp_path / "policy.yaml"
    path.write_text("environments: [{name: gstg, variables: {PDM_ENVIRONMENT: gprd}}]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", "--policy", str(path)])
    assert result.exit_code == 2
    assert "PDM_ENVIRONMENT" in result.output and "Traceback" not in result.output


def test_secrets_fixture_values_differ_from_the_test_signing_secret() -> None:
    assert SIGNING_SECRET not in SECRETS.values() and TOKEN not in SECRETS.values()
