"""Worker jobs end to end in-process: real Redis, real RQ (SimpleWorker), python-gitlab on the fake GitLab."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import timedelta

from freezegun import freeze_time
from rq.registry import FailedJobRegistry

from bot.cli_worker import cron_tick
from scheduler import bootstrap, jobs
from scheduler.natures import Nature
from scheduler.notes import RunEvent
from scheduler.policy.learnt import RunTiming
from scheduler.policy.model import load_policy
from scheduler.records import Run, RunStatus
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.support.worker import (
    DEPLOYED,
    INDEX,
    NO_OP,
    POLICY,
    SATURDAY,
    WEDNESDAY_NIGHT,
    make_context,
    notes,
    publish,
    run_due,
    scheduled,
    work,
)

V1, V2, V3 = "20260105101500", "20260105102200", "20260105102900"
COMMIT_URL = f"https://gitlab.example.com/app/-/commit/{DEPLOYED}"


def deploy(ctx: WorkerContext) -> None:
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], SATURDAY.isoformat(), COMMIT_URL)
    work(ctx)


def the_run(ctx: WorkerContext) -> Run:
    runs = ctx.state.runs("gstg")
    assert len(runs) == 1
    return runs[0]


def approved_run(ctx: WorkerContext) -> Run:
    """Deploy an approval-mode migration and approve its proposal."""
    deploy(ctx)
    run = the_run(ctx)
    jobs.approve(run.id, "U1")
    return ctx.state.get_run(run.id)


@freeze_time(SATURDAY, tick=True)
def test_a_deploy_posts_its_diff_then_the_proposal_in_the_same_flow(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    posted = notes(ctx)
    assert [type(n).__name__ for n in posted.posted] == ["DiffNote", "ProposalNote"]
    diff, proposal = posted.diffs()[0], posted.proposals()[0]
    assert diff.thread_sha == DEPLOYED and [c.version for c in diff.added] == [V1]
    assert proposal.thread_sha == DEPLOYED and proposal.migrations == [V1]
    assert ctx.state.thread("gstg", DEPLOYED) is not None
    assert the_run(ctx).status is RunStatus.REQUESTED
    assert [m.version for m in ctx.state.pending("gstg")] == [V1]


@freeze_time(SATURDAY, tick=True)
def test_a_proposal_is_not_posted_again_on_the_next_evaluation(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    jobs.evaluate("gstg")
    jobs.evaluate("gstg")
    assert len(notes(ctx).proposals()) == 1
    assert len(ctx.state.runs("gstg")) == 1


@freeze_time(SATURDAY, tick=True)
def test_an_auto_batch_runs_one_pipeline_with_the_contract_variables_to_success(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: NO_OP, V2: NO_OP})
    deploy(ctx)
    created = gitlab.calls("create_pipeline")
    assert len(created) == 1
    variables = {v["key"]: v["value"] for v in created[0].body["variables"]}
    assert created[0].body["ref"] == "master"
    assert variables["PDM_ENVIRONMENT"] == "gstg"
    assert variables["PDM_TARGET_SHA"] == DEPLOYED and len(DEPLOYED) == 40
    assert variables["PDM_MIGRATION_VERSION"] == V2
    assert variables["POSTDEPLOY_PIPELINE"] == "true"
    run = the_run(ctx)
    assert run.status is RunStatus.RUNNING and ctx.state.lock_holder("gstg") is not None
    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = "success"
    assert run_due(ctx, "poll") >= 1
    work(ctx)
    run = ctx.state.get_run(run.id)
    assert run.status is RunStatus.SUCCESS and run.pipeline_id == pipeline_id
    assert ctx.state.pending("gstg") == []
    assert set(ctx.state.successes("gstg")) == {V1, V2}
    assert ctx.state.lock_holder("gstg") is None
    no_op = (Nature.NO_OP, None, timedelta(minutes=1))  # the policy's estimate of each
    (timing,) = ctx.state.run_timings("gstg")  # read back from Redis
    assert run.finished_at is not None  # the pipeline took seconds, within the 10 min overhead:
    assert timing == RunTiming(run.finished_at, timedelta(0), (no_op, no_op))
    (done,) = notes(ctx).run_notes(RunEvent.SUCCEEDED)
    assert done.pipeline_url and done.duration_seconds is not None
    assert RunEvent.STARTED in notes(ctx).events()
    assert len(gitlab.calls("create_pipeline")) == 1


@freeze_time(SATURDAY, tick=True)
def test_an_auto_run_is_announced_before_it_starts(redis_url: str, gitlab: FakeGitLabApi) -> None:
    context = make_context(redis_url, gitlab.url, starting_soon=timedelta(minutes=5))
    bootstrap.install(context)
    try:
        publish(gitlab, {V1: NO_OP})
        deploy(context)
        (soon,) = notes(context).run_notes(RunEvent.STARTING_SOON)
        assert soon.starts_at is not None
        assert gitlab.calls("create_pipeline") == []
        ((_job, at),) = [(j, t) for j, t in scheduled(context) if j.func_name.endswith("execute")]
        assert abs((at - (SATURDAY + timedelta(minutes=5))).total_seconds()) < 60
        jobs.evaluate("gstg")
        assert len(notes(context).run_notes(RunEvent.STARTING_SOON)) == 1
        run_due(context, "execute")
        work(context)
        assert len(gitlab.calls("create_pipeline")) == 1
    finally:
        bootstrap.install(None)


@freeze_time(SATURDAY, tick=True)
def test_two_concurrent_executes_of_one_run_create_one_pipeline(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    run = approved_run(ctx)
    assert run.status is RunStatus.RUNNING
    # Fresh approved run for the race: the first one failed, another approved run of its batch races.
    ctx.state.transition_run(run.id, RunStatus.FAILED, SATURDAY, failure_reason="pipeline failed")
    race = Run(
        id="gstg-race",
        environment="gstg",
        migrations=[V1],
        up_to_version=V1,
        target_sha=DEPLOYED,
        requested_by="U1",
        requested_at=SATURDAY,
    )
    ctx.state.create_run(race)
    ctx.state.transition_run(race.id, RunStatus.APPROVED, SATURDAY, approved_by=["U1"])
    ctx.state.release_lock(ctx.state.lock_holder("gstg"))  # type: ignore[arg-type]
    before = len(gitlab.calls("create_pipeline"))
    gitlab.slow_next(0.3, times=4)
    threads = [threading.Thread(target=jobs.execute, args=(race.id,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(gitlab.calls("create_pipeline")) - before == 1
    assert ctx.state.get_run(race.id).pipeline_id is not None


@freeze_time(SATURDAY, tick=True)
def test_an_approval_executes_at_once_when_the_window_is_open(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    run = approved_run(ctx)
    assert run.status is RunStatus.RUNNING and run.approved_by == ["U1"]
    assert RunEvent.APPROVED in notes(ctx).events()
    assert len(gitlab.calls("create_pipeline")) == 1


@freeze_time(SATURDAY, tick=True)
def test_an_approval_by_a_non_approver_is_refused(ctx: WorkerContext, gitlab: FakeGitLabApi) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    run = the_run(ctx)
    jobs.approve(run.id, "U_RANDOM")
    assert ctx.state.get_run(run.id).status is RunStatus.REQUESTED
    assert ctx.state.audit_log(limit=1)[0].action == "refused"


@freeze_time(SATURDAY, tick=True)
def test_a_stale_approval_is_refused_with_a_reason_and_a_fresh_proposal(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V2: INDEX})
    deploy(ctx)
    stale = the_run(ctx)
    (item,) = ctx.state.pending("gstg")
    earlier = dataclasses.replace(item, version=V1, path=f"db/post_migrate/{V1}_migration.rb")
    ctx.state.add_pending("gstg", [earlier])  # an older migration became pending after the proposal
    jobs.approve(stale.id, "U1")
    assert ctx.state.get_run(stale.id).status is RunStatus.CANCELED
    assert any("pending migrations changed" in t.text for t in notes(ctx).texts())
    assert notes(ctx).proposals()[-1].migrations == [V1, V2]
    assert gitlab.calls("create_pipeline") == []


def test_an_approval_after_its_window_closed_is_refused(ctx: WorkerContext, gitlab: FakeGitLabApi) -> None:
    publish(gitlab, {V1: INDEX})
    with freeze_time(SATURDAY, tick=True):
        deploy(ctx)
    run = the_run(ctx)
    assert run.expires_at is not None
    with freeze_time(run.expires_at + timedelta(hours=1), tick=True):
        jobs.approve(run.id, "U1")
    assert ctx.state.get_run(run.id).status is RunStatus.CANCELED
    assert any("window it was proposed for closed" in t.text for t in notes(ctx).texts())
    assert gitlab.calls("create_pipeline") == []


@freeze_time(WEDNESDAY_NIGHT, tick=True)
def test_an_evaluation_in_a_closed_window_is_scheduled_once_at_the_opening(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    jobs.evaluate("gstg")
    evaluations = [(j, t) for j, t in scheduled(ctx) if j.func_name.endswith(".evaluate")]
    assert len(evaluations) == 1
    job, at = evaluations[0]
    assert job.args == ("gstg",)
    assert at == SATURDAY.replace(hour=0)
    assert notes(ctx).proposals() == []


@freeze_time(SATURDAY, tick=True)
def test_a_502_on_the_pipeline_post_is_looked_up_not_resent_until_the_settle_period_passed(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    ctx.timing = dataclasses.replace(ctx.timing, create_settle=timedelta(seconds=1))
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    run = the_run(ctx)
    gitlab.fail_next(502)  # GitLab did not create it, but pdm-bot cannot know that
    jobs.approve(run.id, "U1")
    assert ctx.state.get_run(run.id).status is RunStatus.TRIGGERED
    assert len(gitlab.calls("create_pipeline")) == 1  # python-gitlab did not re-send the POST
    assert len(gitlab.calls("pipelines")) == 1  # looked up at once: nothing
    retries = [j for j, _ in scheduled(ctx) if j.func_name.endswith(".execute")]
    assert [j.args for j in retries] == [(run.id, 1)]
    run_due(ctx, "execute")
    work(ctx)  # within the settle period: looked up again, no second POST
    assert len(gitlab.calls("create_pipeline")) == 1 and len(gitlab.calls("pipelines")) == 2
    assert ctx.state.get_run(run.id).status is RunStatus.TRIGGERED
    time.sleep(1.1)
    run_due(ctx, "execute")
    work(ctx)
    assert ctx.state.get_run(run.id).status is RunStatus.RUNNING
    assert len(gitlab.pipelines) == 1 and len(gitlab.calls("create_pipeline")) == 2
    actions = [e.action for e in ctx.state.audit_log(limit=100)]
    assert actions.count("create_outcome_unknown") == 1 and actions.count("retry") == 2


@freeze_time(SATURDAY, tick=True)
def test_a_permanent_401_fails_the_run_and_announces_the_reason(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    run = the_run(ctx)
    gitlab.fail_next(401)
    jobs.approve(run.id, "U1")
    failed = ctx.state.get_run(run.id)
    assert failed.status is RunStatus.FAILED and "401" in (failed.failure_reason or "")
    (note,) = notes(ctx).run_notes(RunEvent.FAILED)
    assert "401" in (note.reason or "")
    assert ctx.state.lock_holder("gstg") is None
    assert gitlab.pipelines == {}


@freeze_time(SATURDAY, tick=True)
def test_a_failed_pipeline_ends_the_run_failed_and_keeps_pending(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: NO_OP})
    deploy(ctx)
    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = "failed"
    run_due(ctx, "poll")
    work(ctx)
    assert the_run(ctx).status is RunStatus.FAILED
    jobs.evaluate("gstg")  # an automatic run that failed is not retried by itself
    assert the_run(ctx).status is RunStatus.FAILED
    assert [m.version for m in ctx.state.pending("gstg")] == [V1]
    assert ctx.state.lock_holder("gstg") is None
    assert RunEvent.FAILED in notes(ctx).events()


@freeze_time(SATURDAY, tick=True)
def test_reconcile_polls_again_a_run_whose_poll_was_lost(ctx: WorkerContext, gitlab: FakeGitLabApi) -> None:
    publish(gitlab, {V1: NO_OP})
    deploy(ctx)
    for job, _ in scheduled(ctx):
        job.delete()  # the poll is lost
    ctx.state.unclaim(f"poll-alive:{the_run(ctx).id}")
    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = "success"
    jobs.reconcile()
    work(ctx)
    assert the_run(ctx).status is RunStatus.SUCCESS


@freeze_time(SATURDAY, tick=True)
def test_reconcile_reports_a_pdm_pipeline_started_outside_the_bot_once(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    gitlab.pipelines[7] = {
        "id": 7,
        "iid": 7,
        "sha": "f" * 40,
        "ref": "master",
        "status": "running",
        "source": "web",
        "created_at": "2026-01-10T02:00:00Z",
        "updated_at": "2026-01-10T02:00:00Z",
        "web_url": f"{gitlab.url}/ops/deployer/-/pipelines/7",
    }
    gitlab.pipeline_variables[7] = [{"key": "PDM_ENVIRONMENT", "value": "gstg", "variable_type": "env_var"}]
    jobs.reconcile()
    jobs.reconcile()
    warnings = [t for t in notes(ctx).texts() if "pipeline 7" in t.text]
    assert len(warnings) == 1 and "outside pdm-bot" in warnings[0].text


@freeze_time(SATURDAY, tick=True)
def test_a_rejected_proposal_is_not_proposed_again_in_its_window(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    jobs.reject(the_run(ctx).id, "U2")
    jobs.evaluate("gstg")
    assert len(notes(ctx).proposals()) == 1
    assert RunEvent.REJECTED in notes(ctx).events()


@freeze_time(SATURDAY, tick=True)
def test_pause_blocks_runs_and_resume_runs_them(ctx: WorkerContext, gitlab: FakeGitLabApi) -> None:
    jobs.pause("gstg", "U1", "incident drill")
    publish(gitlab, {V1: NO_OP})
    deploy(ctx)
    assert gitlab.calls("create_pipeline") == []
    jobs.resume("gstg", "U1")
    assert len(gitlab.calls("create_pipeline")) == 1


@freeze_time(SATURDAY, tick=True)
def test_a_hold_keeps_the_version_out_of_runs(ctx: WorkerContext, gitlab: FakeGitLabApi) -> None:
    jobs.hold(V2, "U1", "suspicious")
    publish(gitlab, {V1: NO_OP, V2: NO_OP})
    deploy(ctx)
    (created,) = gitlab.calls("create_pipeline")
    variables = {v["key"]: v["value"] for v in created.body["variables"]}
    assert variables["PDM_MIGRATION_VERSION"] == V1


@freeze_time(SATURDAY, tick=True)
def test_request_run_proposes_the_prefix_and_answers_the_requester(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX, V2: INDEX, V3: INDEX})
    deploy(ctx)
    jobs.request_run("gstg", V2, "U2", "https://hooks.example/r1")
    proposal = notes(ctx).proposals()[-1]
    assert proposal.migrations == [V1, V2] and proposal.requested_by == "U2"
    assert "proposed" in notes(ctx).responses[-1][1]


def test_cron_ticks_once_per_slot_even_with_two_instances(ctx: WorkerContext) -> None:
    step = timedelta(seconds=60)
    assert cron_tick(ctx.state, ctx.queue, ctx.policy, SATURDAY, step) is True
    assert cron_tick(ctx.state, ctx.queue, ctx.policy, SATURDAY + timedelta(seconds=30), step) is False
    names = [j.func_name for j in ctx.queue.jobs]
    assert sorted(names) == ["scheduler.jobs.evaluate", "scheduler.jobs.evaluate", "scheduler.jobs.reconcile"]


@freeze_time(SATURDAY, tick=True)
def test_every_decision_and_action_is_audited_with_actor_and_reason(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    jobs.approve(the_run(ctx).id, "U1")
    entries = ctx.state.audit_log(limit=50, environment="gstg")
    actions = {e.action for e in entries}
    assert {"deployed", "decided", "proposed", "approved", "intent", "pipeline_created"} <= actions
    approved = next(e for e in entries if e.action == "approved")
    assert approved.actor == "U1" and approved.reason


def start_deploy(ctx: WorkerContext, sha: str, *commit_url: str) -> None:
    """Run `deploy_started` for gstg deployment 42 (no `commit_url`: a job queued before it existed)."""
    ctx.queue.enqueue("scheduler.jobs.deploy_started", "gstg", 42, sha, SATURDAY.isoformat(), *commit_url)
    work(ctx)
    assert FailedJobRegistry(queue=ctx.queue).count == 0


@freeze_time(SATURDAY, tick=True)
def test_a_started_deploy_with_a_short_sha_is_marked_under_the_full_sha_from_the_commits_api(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    gitlab.commits = [DEPLOYED]
    start_deploy(ctx, DEPLOYED[:8])
    running = ctx.state.deployment_in_progress("gstg")
    assert running is not None and running.sha == DEPLOYED and running.short_sha == DEPLOYED[:8]
    assert [c.params["sha"] for c in gitlab.calls("commit")] == [DEPLOYED[:8]]


@freeze_time(SATURDAY, tick=True)
def test_a_started_deploy_takes_the_full_sha_from_its_commit_url_without_asking_gitlab(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    start_deploy(ctx, DEPLOYED[:8], COMMIT_URL)
    running = ctx.state.deployment_in_progress("gstg")
    assert running is not None and running.sha == DEPLOYED
    assert gitlab.calls("commit") == []


@freeze_time(SATURDAY, tick=True)
def test_a_started_deploy_is_still_marked_under_its_short_sha_when_gitlab_is_down(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    gitlab.commits = [DEPLOYED]
    gitlab.fail_next(503, times=5)
    start_deploy(ctx, DEPLOYED[:8], "https://gitlab.example.com/app/-/commit/c0ffeedd")
    running = ctx.state.deployment_in_progress("gstg")
    assert running is not None and running.sha == DEPLOYED[:8] and running.deployment_id == 42
    assert gitlab.calls("commit")
    started = [e for e in ctx.state.audit_log(limit=20, environment="gstg") if e.action == "deploy_started"]
    assert len(started) == 1 and started[0].details["sha"] == DEPLOYED[:8]


def test_an_approval_the_gap_no_longer_holds_runs_its_first_part_and_keeps_the_rest_approved(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    # deploys at every even hour hold gstg 60 minutes: at 03:00 two 20-minute indexes fit before 04:00,
    # at 03:20 only one does
    ctx.policy = load_policy(
        POLICY + "durations: {overhead: 10m, index_and_constraint: 20m}\n"
        "guards: {deploy_schedule: '0 */2 * * *', deploy_duration: 60m}\n"
    )
    publish(gitlab, {V1: INDEX, V2: INDEX})
    with freeze_time(SATURDAY, tick=True) as frozen:
        deploy(ctx)
        proposal = the_run(ctx)
        assert proposal.status is RunStatus.REQUESTED and proposal.migrations == [V1, V2]
        frozen.move_to(SATURDAY + timedelta(minutes=20))
        jobs.approve(proposal.id, "U1")
        work(ctx)

    rest = ctx.state.get_run(proposal.id)
    (part,) = [r for r in ctx.state.runs("gstg") if r.part_of == proposal.id]
    assert (part.migrations, part.status, part.approved_by) == ([V1], RunStatus.RUNNING, ["U1"])
    assert (rest.migrations, rest.status) == ([V2], RunStatus.APPROVED)
    (created,) = gitlab.calls("create_pipeline")
    variables = {v["key"]: v["value"] for v in created.body["variables"]}
    assert variables["PDM_MIGRATION_VERSIONS"] == V1 and variables["PDM_MIGRATION_VERSION"] == V1
    started = notes(ctx).run_notes(RunEvent.STARTED)
    assert started[0].reason and started[0].reason.startswith(f"part of approved run {proposal.id}")
