"""The Slack outbox on real Redis and RQ, delivering through the real SlackTransport to the fake Slack:
order within a thread, independent threads, Retry-After and back-off, resumable diffs, dead letters,
edits of vanished messages, leases. The clock is frozen and moved by hand; `deliver_notes` jobs run in
this process (`work`), scheduled ones when the test makes them due (`run_due`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from rq.registry import ScheduledJobRegistry

from scheduler import bootstrap
from scheduler.classify.model import Classification
from scheduler.natures import Nature
from scheduler.notes import DiffNote, ProposalNote, RunEvent, RunNote, TextNote
from scheduler.outbox import lane_of
from scheduler.records import SlackMessage
from scheduler.service.context import WorkerContext
from scheduler.settings import Settings
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.web import settings_for
from tests.support.worker import SATURDAY, make_context, scheduled, slack_outbox, work

SHA, OTHER = "c" * 40, "e" * 40
CHAT = {"chat.postMessage", "chat.update"}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack()


@pytest.fixture
def frozen() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(SATURDAY) as factory:
        yield factory


@pytest.fixture
def ctx(
    redis_url: str, gitlab: FakeGitLabApi, slack: FakeSlack, frozen: FrozenDateTimeFactory
) -> Iterator[WorkerContext]:
    """A worker context whose notes go through the outbox to the fake Slack (production timing)."""
    context = slack_outbox(make_context(redis_url, gitlab.url), settings_for(redis_url, slack.api_url))
    bootstrap.install(context)
    yield context
    bootstrap.install(None)


def with_settings(ctx: WorkerContext, slack: FakeSlack, **values: Any) -> None:
    """Use the outbox timing of the `PDM_SLACK_*` settings `values`, as `pdm-bot worker` would."""
    slack_outbox(ctx, Settings(slack_api_url=slack.api_url, slack_channel="C0RELEASE", **values))


def migration(i: int) -> Classification:
    return Classification(
        path=f"db/post_migrate/202601{i:08d}_m{i}.rb",
        version=f"202601{i:08d}",
        name=f"m{i}",
        primary_nature=Nature.NO_OP,
        natures=[Nature.NO_OP],
    )


def diff(sha: str = SHA, count: int = 1) -> DiffNote:
    return DiffNote("gstg", sha, sha[:8], SATURDAY, [migration(i) for i in range(count)], pending_total=count)


def proposal(run_id: str = "gstg-1") -> ProposalNote:
    return ProposalNote(
        "gstg", SHA, run_id, ["20260100000000"], "20260100000000", "no_op", "approval", ["open"], 5, "x", None
    )


def decided(run_id: str = "gstg-1") -> RunNote:
    return RunNote("gstg", SHA, run_id, RunEvent.APPROVED, ["20260100000000"], "20260100000000", actor="U1")


def waits(ctx: WorkerContext) -> list[float]:
    """Seconds from now to each scheduled `deliver_notes` job."""
    now = datetime.now(UTC)
    return sorted(
        (at - now).total_seconds() for job, at in scheduled(ctx) if job.func_name.endswith("deliver_notes")
    )


def after(ctx: WorkerContext, frozen: FrozenDateTimeFactory, seconds: float) -> None:
    """Let `seconds` pass and run the `deliver_notes` jobs due by then, as RQ's scheduler would."""
    frozen.tick(timedelta(seconds=seconds))
    registry = ScheduledJobRegistry(queue=ctx.queue)
    for job, at in scheduled(ctx):
        if at <= datetime.now(UTC):
            registry.remove(job)
            ctx.queue.enqueue_job(job)
    work(ctx)


def audits(ctx: WorkerContext, action: str) -> list[Any]:
    return [e for e in ctx.state.audit_log(limit=100) if e.action == action]


def test_a_thread_waits_behind_its_rate_limited_root_while_another_thread_is_delivered(
    ctx: WorkerContext, slack: FakeSlack, frozen: FrozenDateTimeFactory
) -> None:
    slack.rate_limit(1, retry_after=30, methods=CHAT)
    ctx.notifier.post(diff())
    ctx.notifier.post(proposal())
    ctx.notifier.update(decided())
    ctx.notifier.post(TextNote("gstg", OTHER, "another package"))
    work(ctx)
    attempts = slack.named("chat.postMessage")
    assert [(c.status, c.args["text"]) for c in attempts[1:]] == [(200, "another package")]
    assert attempts[0].status == 429 and "thread_ts" not in attempts[0].args
    assert slack.named("chat.update") == [] and ctx.outbox.owed(datetime.now(UTC))[0] == 3
    assert waits(ctx) == [30.0]  # Slack's Retry-After, not sooner

    after(ctx, frozen, 30)
    posts = slack.delivered()[1:]
    root = ctx.state.thread("gstg", SHA)
    assert root is not None and "thread_ts" not in posts[0].args
    assert posts[1].args["thread_ts"] == root.ts and posts[1].args["text"].startswith("Proposal")
    (update,) = slack.delivered("chat.update")
    assert update.args["ts"] == ctx.state.proposal_message("gstg-1").ts  # type: ignore[union-attr]
    assert update.at > posts[1].at  # the edit after its post
    assert ctx.outbox.owed(datetime.now(UTC)) == (0, 0.0)
    (late,) = audits(ctx, "slack_delivered_late")
    assert late.details["note"] == "DiffNote" and late.details["attempts"] == 1


def test_5xx_retries_back_off_doubling_from_the_base_setting_up_to_the_cap_setting(
    ctx: WorkerContext, slack: FakeSlack, frozen: FrozenDateTimeFactory
) -> None:
    with_settings(ctx, slack, slack_retry_base_seconds=2, slack_retry_max_seconds=10)
    slack.fail_next(6, 503, methods=CHAT)
    ctx.notifier.post(TextNote("gstg", SHA, "hello"))
    work(ctx)
    delays = []
    for _ in range(6):
        (wait,) = waits(ctx)
        delays.append(wait)
        after(ctx, frozen, wait)
    assert delays == [2, 4, 8, 10, 10, 10]
    assert [c.status for c in slack.named("chat.postMessage")] == [503] * 6 + [200]
    (late,) = audits(ctx, "slack_delivered_late")
    assert late.details["attempts"] == 6 and "44 s after" in late.reason


def test_production_back_off_is_1_2_4_s_and_at_most_5_minutes(
    ctx: WorkerContext, slack: FakeSlack, frozen: FrozenDateTimeFactory
) -> None:
    slack.fail_next(12, 502, methods=CHAT)
    ctx.notifier.post(TextNote("gstg", SHA, "hello"))
    work(ctx)
    delays = []
    for _ in range(12):
        (wait,) = waits(ctx)
        delays.append(wait)
        after(ctx, frozen, wait)
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert len(slack.delivered()) == 1


def test_a_message_past_its_deadline_is_dead_lettered_and_audited_and_its_thread_goes_on(
    ctx: WorkerContext, slack: FakeSlack, frozen: FrozenDateTimeFactory
) -> None:
    with_settings(ctx, slack, slack_outbox_deadline_seconds=60)
    slack.fail_next(1000, 503, methods=CHAT)
    ctx.notifier.post(diff())
    work(ctx)
    frozen.tick(timedelta(seconds=30))
    ctx.notifier.post(proposal())  # owed until 90 s
    after(ctx, frozen, 31)  # 61 s: the diff is dead, the proposal is tried (and fails)
    (dead,) = audits(ctx, "slack_dead_letter")
    assert dead.environment == "gstg" and dead.details["note"] == "DiffNote"
    assert "deadline" in dead.reason and "http_503" in dead.reason
    assert ctx.telemetry.read().slack_dead_letters == 1
    (kept,) = [json.loads(raw) for raw in ctx.state.r.lrange("pdm:outbox:dead", 0, -1)]
    assert kept["note"]["type"] == "diff" and "deadline" in kept["reason"]
    assert ctx.outbox.owed(datetime.now(UTC))[0] == 1

    slack.heal()
    after(ctx, frozen, 10)
    (posted,) = slack.delivered()
    assert posted.args["text"].startswith("Proposal") and "thread_ts" not in posted.args  # no root: top level
    assert ctx.outbox.owed(datetime.now(UTC)) == (0, 0.0)


def test_a_message_slack_refuses_for_good_is_dead_lettered_at_once_and_the_next_one_follows(
    ctx: WorkerContext, slack: FakeSlack
) -> None:
    slack.refuse_next(1, "invalid_blocks", methods=CHAT)
    ctx.notifier.post(TextNote("gstg", None, "first"))
    ctx.notifier.post(TextNote("gstg", None, "second"))
    work(ctx)
    assert [c.args["text"] for c in slack.delivered()] == ["second"]
    (dead,) = audits(ctx, "slack_dead_letter")
    assert dead.reason == "Slack chat.postMessage failed: invalid_blocks" and dead.details["attempts"] == 0


def test_a_decision_whose_proposal_message_is_gone_is_posted_in_the_thread_instead(
    ctx: WorkerContext, slack: FakeSlack
) -> None:
    ctx.state.set_thread("gstg", SHA, SlackMessage("C0RELEASE", "1767225600.000001"))
    ctx.state.set_proposal_message("gstg-1", SlackMessage("C0RELEASE", "1767225600.000002"))
    slack.refuse_next(1, "message_not_found", methods={"chat.update"})
    ctx.notifier.update(decided())
    work(ctx)
    (edit,) = slack.named("chat.update")
    assert edit.args["ts"] == "1767225600.000002" and not edit.ok
    (post,) = slack.delivered()
    assert post.args["thread_ts"] == "1767225600.000001" and "approved" in post.args["text"]


def test_an_update_of_a_run_without_proposal_message_is_posted_in_the_thread(
    ctx: WorkerContext, slack: FakeSlack
) -> None:
    ctx.notifier.update(decided())
    work(ctx)
    assert slack.named("chat.update") == [] and len(slack.delivered()) == 1


def test_a_long_diff_resumes_after_its_last_delivered_part_without_posting_the_root_again(
    ctx: WorkerContext, slack: FakeSlack, frozen: FrozenDateTimeFactory
) -> None:
    slack.fail_next(1, 503, methods=CHAT, after=2)  # the root and the first reply go through
    ctx.notifier.post(diff(count=40))
    ctx.notifier.post(proposal())
    work(ctx)
    assert [c.status for c in slack.named("chat.postMessage")] == [200, 200, 503]
    after(ctx, frozen, 1)
    posts = slack.delivered()
    root = ctx.state.thread("gstg", SHA)
    assert root is not None and len(posts) == 5  # root, 3 replies of up to 15 migrations, proposal
    assert "thread_ts" not in posts[0].args and all(p.args["thread_ts"] == root.ts for p in posts[1:])
    firsts = [str(p.args["blocks"]).count("2026010000") for p in posts[1:4]]
    assert firsts == [15, 15, 10] and posts[4].args["text"].startswith("Proposal")


def test_a_second_diff_of_a_package_whose_thread_exists_posts_nothing(
    ctx: WorkerContext, slack: FakeSlack
) -> None:
    ctx.notifier.post(diff())
    ctx.notifier.post(diff())
    work(ctx)
    assert len(slack.delivered()) == 1


def test_a_lane_held_by_another_sender_is_left_to_it_and_looked_at_when_its_hold_ends(
    ctx: WorkerContext, slack: FakeSlack, frozen: FrozenDateTimeFactory
) -> None:
    note = TextNote("gstg", SHA, "hello")
    with ctx.outbox.lease(lane_of(note), timedelta(seconds=5)) as held:
        assert held is not None
        ctx.notifier.post(note)
        work(ctx)
        assert slack.named("chat.postMessage") == []
        (wait,) = waits(ctx)
        assert 0 < wait <= 6
    after(ctx, frozen, wait)
    assert len(slack.delivered()) == 1


def test_a_response_url_answer_is_owed_30_minutes_at_most_and_its_url_is_never_kept_or_audited(
    ctx: WorkerContext, slack: FakeSlack, frozen: FrozenDateTimeFactory
) -> None:
    url = slack.response_url("run")
    slack.fail_next(1000, 503)
    ctx.notifier.respond(url, "run gstg-3 proposed")
    work(ctx)
    for _ in range(29):  # retried, 5 minutes apart at most, while Slack accepts answers on it
        after(ctx, frozen, 60)
    assert ctx.outbox.owed(datetime.now(UTC))[0] == 1 and audits(ctx, "slack_dead_letter") == []
    after(ctx, frozen, 60)  # 30 minutes: given up on at once, not at the next try
    (dead,) = audits(ctx, "slack_dead_letter")
    assert "deadline" in dead.reason and url not in json.dumps(dead.details) + dead.reason
    assert all(url not in raw.decode() for raw in ctx.state.r.lrange("pdm:outbox:dead", 0, -1))
    attempts = slack.named("response_url")
    assert 5 <= len(attempts) <= 20 and ctx.outbox.owed(datetime.now(UTC)) == (0, 0.0)


def test_messages_owed_after_a_lost_deliver_job_go_out_when_the_next_worker_starts(
    ctx: WorkerContext, slack: FakeSlack
) -> None:
    ctx.notifier.post(TextNote("gstg", SHA, "owed before the stop"))  # queues one deliver_notes job
    ctx.queue.empty()  # the worker that took that job was stopped before it ran: the job is gone
    ctx.notifier.post(TextNote("gstg", OTHER, "owed while no worker ran"))
    ctx.outbox.resume(ctx.queue)  # what a starting worker does
    work(ctx)
    assert sorted(c.args["text"] for c in slack.delivered()) == [
        "owed before the stop",
        "owed while no worker ran",
    ]
