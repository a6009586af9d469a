"""Exactly one pipeline per run, with real `pdm-bot serve` + `pdm-bot worker` processes on production
defaults (python-gitlab's retries, the 5 s job back-off, the 60 s create settle period); a test changes a
timing only through a setting a user has (`PDM_GITLAB_TIMEOUT_SECONDS`, `PDM_GITLAB_CREATE_SETTLE_SECONDS`,
`PDM_RUN_LOCK_TTL_SECONDS`; the stack sets `PDM_POLL_INTERVAL_SECONDS=1`, `PDM_STARTING_SOON_SECONDS=0`).

Fault 1: GitLab creates the pipeline but answers 502, answers after the client's timeout, or creates it
only after the client gave up — one POST, the run adopts the pipeline carrying its `PDM_RUN_ID`.
Fault 6: a run's environment lock lapses while the worker is down — no other run takes its migrations.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.blocks import ACTION_APPROVE
from scheduler.lifecycle import BOT_ACTOR
from scheduler.records import COMMITTED_RUN_STATUSES, Run, RunStatus
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack
from tests.support.blocks_text import render
from tests.support.e2e import APPROVER, Stack, deployment_hook, wait_for
from tests.support.web import Served
from tests.support.worker import DEPLOYED, INDEX, NO_OP, publish

V1, V2 = "20260105101500", "20260105102200"
SECOND = "5eed" + "e" * 36  # the SHA of a later package


def pipelines_dated_now(gitlab: FakeGitLabApi) -> None:
    """Created pipelines carry the real time (pdm-bot looks for its pipeline among recent ones)."""
    gitlab.pipeline_time = datetime.now(UTC).isoformat().replace("+00:00", "Z")


def proposed_run_id(slack: FakeSlack) -> str | None:
    """The run id of the first Approve button posted in Slack."""
    for call in slack.named("chat.postMessage"):
        for block in call.args.get("blocks", []):
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == ACTION_APPROVE:
                    return str(element["value"])
    return None


def only_run(app: Served, status: RunStatus) -> Run | None:
    """The one run of gstg once it is in `status`."""
    runs = app.state.runs("gstg")
    return runs[0] if len(runs) == 1 and runs[0].status is status else None


def succeed(app: Served, gitlab: FakeGitLabApi, run_id: str) -> None:
    """Let the run's pipeline end in success and wait for the run to record it."""
    pipeline_id = app.state.get_run(run_id).pipeline_id
    assert pipeline_id is not None
    gitlab.pipelines[pipeline_id]["status"] = "success"
    wait_for(lambda: app.state.get_run(run_id).status is RunStatus.SUCCESS, "the run to succeed")


def actions(app: Served) -> list[str]:
    return [e.action for e in app.state.audit_log(limit=200)]


# Fault 1: the pipeline POST --------------------------------------------------------------------------


def test_a_pipeline_post_answered_502_after_gitlab_created_it_is_adopted_not_sent_twice(
    stack: Stack, gitlab: FakeGitLabApi, slack: FakeSlack
) -> None:
    publish(gitlab, {V1: INDEX})
    pipelines_dated_now(gitlab)
    app = stack.start()
    gitlab.fault_create(status=502)  # GitLab creates the pipeline, then its proxy answers 502
    assert app.webhook(deployment_hook(gitlab, DEPLOYED)).json()["result"] == "queued"
    run_id = wait_for(lambda: proposed_run_id(slack), "the proposal")
    assert app.click(ACTION_APPROVE, run_id, APPROVER, slack.response_url("approve")).status == 200

    run = wait_for(lambda: only_run(app, RunStatus.RUNNING), "the run to adopt its pipeline")
    (pipeline_id,) = gitlab.pipelines
    assert len(gitlab.calls("create_pipeline")) == 1 and run.pipeline_id == pipeline_id
    # the run turns RUNNING just before its audit entry is written: wait for the entry
    assert wait_for(lambda: {"create_outcome_unknown", "pipeline_adopted"} <= set(actions(app)), "the audit")
    assert "pipeline_created" not in actions(app)
    unknown = next(e for e in app.state.audit_log(limit=200) if e.action == "create_outcome_unknown")
    assert "HTTP 502" in unknown.reason and "outcome unknown" in unknown.reason
    succeed(app, gitlab, run_id)
    assert len(gitlab.pipelines) == 1 and len(gitlab.calls("create_pipeline")) == 1


def test_a_pipeline_post_answered_after_the_client_timeout_is_adopted_not_sent_twice(
    stack: Stack, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: NO_OP})  # auto mode: the deploy alone starts the run
    pipelines_dated_now(gitlab)
    app = stack.start(gitlab_timeout_seconds="1")
    gitlab.fault_create(after=3)  # created at once, answered 2 s after python-gitlab gave up
    assert app.webhook(deployment_hook(gitlab, DEPLOYED)).json()["result"] == "queued"

    run = wait_for(lambda: only_run(app, RunStatus.RUNNING), "the run to adopt its pipeline")
    (pipeline_id,) = gitlab.pipelines
    assert len(gitlab.calls("create_pipeline")) == 1 and run.pipeline_id == pipeline_id
    unknown = next(e for e in app.state.audit_log(limit=200) if e.action == "create_outcome_unknown")
    assert "no answer (ReadTimeout)" in unknown.reason
    assert wait_for(lambda: "pipeline_adopted" in actions(app), "the adoption's audit entry")
    succeed(app, gitlab, run.id)
    assert len(gitlab.pipelines) == 1 and len(gitlab.calls("create_pipeline")) == 1


def test_a_pipeline_gitlab_creates_only_after_the_client_gave_up_is_waited_for_not_duplicated(
    stack: Stack, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: NO_OP})
    pipelines_dated_now(gitlab)
    app = stack.start(gitlab_timeout_seconds="1")
    # GitLab creates the pipeline 12 s after the POST: after the client's timeout (1 s), the immediate
    # look-up and the first retry's look-up (5 s later, so 6 s of slack for a loaded machine: with 8 s a
    # late retry found the pipeline and never waited); the settle period (60 s) forbids a second POST.
    gitlab.fault_create(before=12)
    assert app.webhook(deployment_hook(gitlab, DEPLOYED)).json()["result"] == "queued"

    run = wait_for(lambda: only_run(app, RunStatus.RUNNING), "the run to adopt its pipeline", timeout=45)
    (pipeline_id,) = gitlab.pipelines
    assert len(gitlab.calls("create_pipeline")) == 1 and run.pipeline_id == pipeline_id
    retries = [e for e in app.state.audit_log(limit=200) if e.action == "retry"]
    assert any("no new POST within 60 s" in e.reason for e in retries)
    assert len(gitlab.calls("pipelines")) >= 3  # looked up at once, at the first and the second retry
    succeed(app, gitlab, run.id)
    assert len(gitlab.pipelines) == 1


def test_a_502_from_a_proxy_that_never_reached_gitlab_creates_one_pipeline_after_the_settle_period(
    stack: Stack, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: NO_OP})
    pipelines_dated_now(gitlab)
    app = stack.start(gitlab_create_settle_seconds="3")
    gitlab.fault_create(status=502, creates=False)
    assert app.webhook(deployment_hook(gitlab, DEPLOYED)).json()["result"] == "queued"

    run = wait_for(lambda: only_run(app, RunStatus.RUNNING), "the run's pipeline", timeout=30)
    (pipeline_id,) = gitlab.pipelines
    assert run.pipeline_id == pipeline_id
    assert len(gitlab.calls("create_pipeline")) == 2  # the lost one, then one after 3 s without a trace
    assert wait_for(lambda: "pipeline_created" in actions(app), "the creation's audit entry")
    assert "pipeline_adopted" not in actions(app)
    succeed(app, gitlab, run.id)
    assert len(gitlab.pipelines) == 1


# Fault 6: a lapsed lock --------------------------------------------------------------------------------


def test_a_running_run_whose_lock_lapsed_keeps_its_migrations_from_every_other_run(
    stack: Stack, gitlab: FakeGitLabApi, slack: FakeSlack
) -> None:
    publish(gitlab, {V1: NO_OP})
    pipelines_dated_now(gitlab)
    app = stack.start(run_lock_ttl_seconds="2")
    assert app.webhook(deployment_hook(gitlab, DEPLOYED)).json()["result"] == "queued"
    first = wait_for(lambda: only_run(app, RunStatus.RUNNING), "the automatic run to start")
    # An open proposal of the same migration (e.g. made while the run was approved, not yet started).
    proposal = Run(
        id=app.state.next_run_id("gstg"),
        environment="gstg",
        migrations=[V1],
        up_to_version=V1,
        target_sha=DEPLOYED,
        requested_by=BOT_ACTOR,
        requested_at=datetime.now(UTC),
    )
    assert app.state.create_run(proposal)

    stack.stop_worker()  # down longer than PDM_RUN_LOCK_TTL_SECONDS
    wait_for(lambda: app.state.lock_holder("gstg") is None, "the run's lock to lapse", timeout=10)
    reply = app.slash("status gstg").json()
    status = render(reply["blocks"]) if "blocks" in reply else str(reply.get("text"))
    assert f"run {first.id} (running; its lock lapsed)" in status
    # Meanwhile: the Approve button of that proposal, a deploy adding V2 (an evaluation), a /pdm run.
    assert app.click(ACTION_APPROVE, proposal.id, APPROVER, slack.response_url("approve")).status == 200
    publish(gitlab, {V1: NO_OP, V2: NO_OP}, sha=SECOND)
    assert app.webhook(deployment_hook(gitlab, SECOND, deployment_id=42)).json()["result"] == "queued"
    assert app.slash("run gstg", user=APPROVER, response_url=slack.response_url("run")).status == 200
    stack.start_worker()

    refused = wait_for(
        lambda: (r := app.state.get_run(proposal.id)).status is RunStatus.CANCELED and r, "approval refused"
    )
    assert f"{V1} belongs to run {first.id} (running)" in (refused.failure_reason or "")
    busy = f"Run {first.id} on gstg is running"
    wait_for(
        lambda: any(busy in str(c.args.get("text")) for c in slack.named("response_url")), "/pdm run refused"
    )
    decided = wait_for(
        lambda: [
            e
            for e in app.state.audit_log(limit=200)
            if e.action == "decided" and first.id in e.reason and e.details["decision"] == "blocked"
        ],
        "the deploy's evaluation",
    )
    assert decided
    wait_for(lambda: getattr(app.state.lock_holder("gstg"), "owner", "") == first.id, "the lock taken back")
    assert len(gitlab.calls("create_pipeline")) == 1
    others = [r for r in app.state.runs("gstg") if r.id != first.id]
    assert all(r.status not in COMMITTED_RUN_STATUSES for r in others)
    thread = [str(c.args.get("text", "")) for c in slack.named("chat.postMessage")]
    assert any(f"approval of {proposal.id} refused" in t for t in thread)

    succeed(app, gitlab, first.id)  # what is left (V2 only) runs after it
    second = wait_for(
        lambda: next((r for r in app.state.runs("gstg") if r.pipeline_id and r.id != first.id), None),
        "the next run",
    )
    assert second.migrations == [V2] and len(gitlab.calls("create_pipeline")) == 2
    variables = {v["key"]: v["value"] for v in gitlab.calls("create_pipeline")[-1].body["variables"]}
    assert variables["PDM_MIGRATION_VERSION"] == V2 and variables["PDM_RUN_ID"] == second.id
