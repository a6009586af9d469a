"""Signed Slack requests over real HTTP to the app: /pdm commands, proposal buttons, signatures, health."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks import ACTION_APPROVE, ACTION_REJECT
from scheduler.classify.model import Classification, Database, SizeClass
from scheduler.natures import Nature
from scheduler.policy.learnt import RunTiming
from scheduler.records import PendingRecord, Run, RunStatus
from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.blocks_text import render
from tests.support.web import APPROVER, GROUP, Served, http, serve_app, sign

AT = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack({GROUP: ["U0GROUPMEMBER"]})


@pytest.fixture
def app(redis_url: str, slack: FakeSlack) -> Iterator[Served]:
    with serve_app(redis_url, slack.api_url) as served:
        yield served


def pending(version: str, nature: Nature, database: Database = Database.MAIN) -> PendingRecord:
    classification = Classification(
        path=f"db/post_migrate/{version}_m.rb",
        version=version,
        name="m",
        primary_nature=nature,
        natures=[nature],
        database=database,
    )
    return PendingRecord(version, classification.path, classification, "b" * 40, AT)


def proposed_run(
    app: Served, status: RunStatus = RunStatus.REQUESTED, run_id: str = "gprd-1", **changes: object
) -> str:
    """A run of gprd (one migration unless `changes` say otherwise) stored in `status`."""
    run = Run(
        id=run_id,
        environment="gprd",
        migrations=["20260104101500"],
        up_to_version="20260104101500",
        target_sha="b" * 40,
        requested_by="pdm-bot",
        requested_at=AT,
        status=status,
    )
    app.state.create_run(dataclasses.replace(run, **changes))
    return run.id


def answer_text(reply_json: dict[str, object]) -> str:
    blocks = reply_json.get("blocks")
    return render(blocks) if isinstance(blocks, list) else str(reply_json.get("text"))


def test_help_lists_every_subcommand_ephemerally(app: Served) -> None:
    reply = app.slash("help")
    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    text = answer_text(body)
    for usage in ("/pdm status [ENV]", "/pdm run ENV [--up-to VERSION]", "/pdm explain VERSION"):
        assert usage in text


def test_unknown_subcommand_is_answered_with_an_error_and_usage(app: Served) -> None:
    body = app.slash("deploy gprd").json()
    assert body["response_type"] == "ephemeral"
    assert "unknown subcommand `deploy`" in answer_text(body)
    assert "Usage:" in answer_text(body)


def test_unknown_environment_is_named_with_the_known_ones(app: Served) -> None:
    text = answer_text(app.slash("status gprd2").json())
    assert "unknown environment `gprd2`; known: gstg, gprd" in text


def test_non_approver_is_refused_and_the_refusal_is_audited(app: Served) -> None:
    body = app.slash("run gprd", user="U0RANDOM").json()
    assert "Only approvers" in answer_text(body)
    assert app.jobs() == []
    entry = app.state.audit_log(limit=1)[0]
    assert (entry.actor, entry.action, entry.environment) == ("U0RANDOM", "refused", "gprd")


def test_approver_run_enqueues_request_run_on_the_pdm_queue(app: Served) -> None:
    body = app.slash("run gprd --up-to 20260104101500", user=APPROVER, response_url="http://x/r").json()
    assert "queued" in body["text"]
    assert app.queue.name == "pdm"
    assert app.jobs() == [
        ("scheduler.jobs.request_run", ("gprd", "20260104101500", APPROVER, "http://x/r")),
    ]


def test_usergroup_members_are_approvers_and_membership_is_cached(app: Served, slack: FakeSlack) -> None:
    app.slash("pause gprd db maintenance", user="U0GROUPMEMBER")
    app.slash("resume gprd", user="U0GROUPMEMBER")
    assert app.jobs() == [
        ("scheduler.jobs.pause", ("gprd", "U0GROUPMEMBER", "db maintenance")),
        ("scheduler.jobs.resume", ("gprd", "U0GROUPMEMBER")),
    ]
    assert len(slack.named("usergroups.users.list")) == 1


def test_status_states_the_total_then_the_split_by_nature_and_database(app: Served) -> None:
    app.state.set_pending(
        "gprd",
        [
            pending("20260104101500", Nature.DDL_CLEANUP),
            pending("20260105101500", Nature.DDL_CLEANUP),
            pending("20260106101500", Nature.INDEX_AND_CONSTRAINT, Database.CI),
        ],
    )
    text = answer_text(app.slash("status gprd").json())
    lines = text.splitlines()
    assert lines[0] == "*gprd*: *3* pending post-deploy migrations"
    assert ":broom: DDL cleanup · db `main`: 2" in lines[1]
    assert "Index / constraint · db `ci`: 1" in lines[2]
    assert "Next window:" in text and "Rollback line: no PDM run recorded on gprd" in text


def test_status_without_environment_covers_every_environment(app: Served) -> None:
    text = answer_text(app.slash("status").json())
    assert "*gstg*: *0* pending" in text and "*gprd*: *0* pending" in text


def test_explain_of_a_version_nobody_has_pending_says_so(app: Served) -> None:
    text = answer_text(app.slash("explain 20990101000000").json())
    assert "no pending migration has version 20990101000000" in text


def test_a_bad_signature_is_rejected_with_401(app: Served) -> None:
    body = "command=%2Fpdm&text=run+gprd&user_id=U0APPROVER"
    headers = sign(body, secret="not-the-secret")
    assert http(app.url + "/slack/events", body.encode(), headers).status == 401
    assert app.jobs() == []


def test_a_stale_timestamp_is_rejected_with_401(app: Served) -> None:
    body = "command=%2Fpdm&text=run+gprd&user_id=U0APPROVER"
    headers = sign(body, timestamp=int(time.time()) - 6 * 60)
    assert http(app.url + "/slack/events", body.encode(), headers).status == 401
    assert app.jobs() == []


def test_approve_on_a_proposed_run_enqueues_approve_once_despite_a_double_click(
    app: Served, slack: FakeSlack
) -> None:
    run_id = proposed_run(app)
    assert app.click(ACTION_APPROVE, run_id, APPROVER, slack.response_url("a1")).status == 200
    assert app.click(ACTION_APPROVE, run_id, APPROVER, slack.response_url("a2")).status == 200
    assert app.jobs() == [("scheduler.jobs.approve", (run_id, APPROVER))]
    answers = [c.args["text"] for c in slack.named("response_url")]
    assert "queued" in answers[0] and "already handled" in answers[1]


def test_a_button_on_a_run_no_longer_proposed_answers_already_handled(app: Served, slack: FakeSlack) -> None:
    run_id = proposed_run(app, RunStatus.APPROVED)
    app.click(ACTION_REJECT, run_id, APPROVER, slack.response_url())
    assert app.jobs() == []
    [answer] = slack.named("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert "already handled" in answer.args["text"]


def test_a_button_pressed_by_a_non_approver_is_refused_and_audited(app: Served, slack: FakeSlack) -> None:
    run_id = proposed_run(app)
    app.click(ACTION_APPROVE, run_id, "U0RANDOM", slack.response_url())
    assert app.jobs() == []
    assert "Only approvers" in slack.named("response_url")[0].args["text"]
    entry = app.state.audit_log(limit=1)[0]
    assert (entry.actor, entry.action, entry.details["request"]) == (
        "U0RANDOM",
        "refused",
        f"approve {run_id}",
    )


def test_healthz_pings_redis_and_metrics_expose_pdm_counters(app: Served) -> None:
    app.slash("help")
    assert http(app.url + "/healthz", None, {}, method="GET").json() == {"status": "ok", "redis": "ok"}
    assert http(app.url + "/livez", None, {}, method="GET").json() == {"status": "ok"}
    metrics = http(app.url + "/metrics", None, {}, method="GET").body.decode()
    assert 'pdm_slash_commands_total{outcome="answered",subcommand="help"}' in metrics


def test_metrics_export_the_pending_gauges_from_redis_state(app: Served) -> None:
    app.state.set_pending("gstg", [pending("20260104101500", Nature.DDL_CLEANUP)])
    metrics = http(app.url + "/metrics", None, {}, method="GET").body.decode()
    assert 'pdm_pending_migrations{database="main",environment="gstg",nature="ddl_cleanup"} 1.0' in metrics
    assert 'pdm_decision{action="idle",environment="gprd"} 1.0' in metrics


def test_plan_names_the_estimates_learnt_from_past_runs(app: Served) -> None:
    assert "estimates learnt" not in answer_text(app.slash("plan gprd").json())
    guess = (Nature.DATA_MIGRATION, SizeClass.OVER_LIMIT, timedelta(hours=4))
    for _ in range(7):  # each took 1 h 26 min 24 s of a 4 h guess: 0.36
        app.state.record_run_timing("gprd", RunTiming(AT, timedelta(minutes=86, seconds=24), (guess,)))

    text = answer_text(app.slash("plan gprd").json())

    assert "estimates learnt from past runs: data_migration on over_limit tables ×0.36 (7 runs)" in text
    assert "estimates learnt" not in answer_text(app.slash("plan gstg").json())  # per environment


def test_status_and_plan_say_which_deploy_the_forecast_expects_next_and_why(app: Served) -> None:
    slot = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    for week in range(1, 5):
        app.state.record_deploy_start("gprd", week, slot - timedelta(weeks=week) + timedelta(minutes=12))
    hours = f"{slot:%a %H}:00–{slot + timedelta(hours=1):%H}:00 UTC"
    expected = re.compile(
        re.escape(
            f"Expected deploys: next at <!date^{int(slot.timestamp())}^"
            f"{{date_short_pretty}} {{time}}|{slot.isoformat()}> (deploys expected {hours}: seen "
        )
        + r"(\d) of the last \1 weeks\)"  # 3 or 4 complete weeks, by the weekday it runs on
    )
    assert expected.search(answer_text(app.slash("status gprd").json()))
    assert expected.search(answer_text(app.slash("plan gprd").json()))


def test_status_says_no_deploy_is_expected_before_a_complete_week_of_history(app: Served) -> None:
    text = answer_text(app.slash("status gstg").json())
    assert "Expected deploys: none (" in text and "week" in text


def test_status_lists_the_part_of_an_approved_run_that_runs_and_the_rest_that_waits(app: Served) -> None:
    proposed_run(
        app, RunStatus.APPROVED, "gprd-9", migrations=["20260105101500"], up_to_version="20260105101500"
    )
    part_at = AT + timedelta(hours=1)
    proposed_run(app, RunStatus.RUNNING, "gprd-12", requested_at=part_at, part_of="gprd-9")
    text = answer_text(app.slash("status gprd").json())
    assert "Active runs: `gprd-12 (running, part of gprd-9)`, `gprd-9 (approved)`" in text
